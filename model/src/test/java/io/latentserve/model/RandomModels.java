package io.latentserve.model;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.config.ConfigLoader;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.graph.DeepseekV2Model;
import io.latentserve.model.graph.LlamaModel;
import io.latentserve.model.graph.Weights;
import io.latentserve.model.random.RandomTensorStore;

import java.nio.file.Path;

/** Small random models for tests (weights off-heap, no files). */
public final class RandomModels {
    private RandomModels() {
    }

    /** A DeepSeek-V2 config with every feature on: q-LoRA optional, group-limited routing, dense first layer. */
    public static ModelConfig deepseekConfig(boolean qLora, boolean groupLimited) {
        return ConfigLoader.parse(Path.of("test-config.json"), """
                {"architectures": ["DeepseekV2ForCausalLM"], "vocab_size": 300, "hidden_size": 64,
                 "intermediate_size": 96, "moe_intermediate_size": 32, "num_hidden_layers": 3,
                 "num_attention_heads": 4, "n_routed_experts": 8, "n_shared_experts": 1, "num_experts_per_tok": 3,
                 "n_group": %d, "topk_group": %d, "topk_method": "%s", "routed_scaling_factor": %s,
                 "norm_topk_prob": %s, "first_k_dense_replace": 1, "moe_layer_freq": 1,
                 "q_lora_rank": %s, "kv_lora_rank": 32, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8,
                 "v_head_dim": 16, "rope_theta": 10000,
                 "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096,
                   "beta_fast": 32, "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707},
                 "max_position_embeddings": 8192, "rms_norm_eps": 1e-6, "bos_token_id": 1, "eos_token_id": 2}
                """.formatted(groupLimited ? 4 : 1, groupLimited ? 2 : 1,
                groupLimited ? "group_limited_greedy" : "greedy", groupLimited ? "2.5" : "1.0",
                groupLimited ? "true" : "false", qLora ? "24" : "null"));
    }

    public static ModelConfig llamaConfig(int heads, int kvHeads) {
        return ConfigLoader.parse(Path.of("test-config.json"), """
                {"architectures": ["LlamaForCausalLM"], "vocab_size": 300, "hidden_size": 64,
                 "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": %d,
                 "num_key_value_heads": %d, "max_position_embeddings": 4096, "rms_norm_eps": 1e-6,
                 "rope_theta": 10000, "bos_token_id": 1, "eos_token_id": 2}
                """.formatted(heads, kvHeads));
    }

    public static CausalLM model(ModelConfig config, Backend backend, long seed) {
        Weights w = new Weights(new RandomTensorStore(config, seed), backend);
        return config.isDeepseekV2() ? new DeepseekV2Model(config, w) : new LlamaModel(config, w);
    }
}

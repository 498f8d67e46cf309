package io.latentserve.cuda.backend;

import io.latentserve.model.config.ConfigLoader;
import io.latentserve.model.config.ModelConfig;

import java.nio.file.Path;

/** DeepSeek-V2-Lite's real layer shapes (MODEL_SPEC 1) with fewer layers and a chosen vocabulary. */
final class V2LiteShapes {
    private V2LiteShapes() {
    }

    static ModelConfig config(int layers, int vocab) {
        return ConfigLoader.parse(Path.of("v2-lite-shaped.json"), """
                {"architectures": ["DeepseekV2ForCausalLM"], "vocab_size": %d, "hidden_size": 2048,
                 "intermediate_size": 10944, "moe_intermediate_size": 1408, "num_hidden_layers": %d,
                 "num_attention_heads": 16, "num_key_value_heads": 16, "n_routed_experts": 64, "n_shared_experts": 2,
                 "num_experts_per_tok": 6, "n_group": 1, "topk_group": 1, "topk_method": "greedy",
                 "routed_scaling_factor": 1.0, "norm_topk_prob": false, "first_k_dense_replace": 1,
                 "moe_layer_freq": 1, "q_lora_rank": null, "kv_lora_rank": 512, "qk_nope_head_dim": 128,
                 "qk_rope_head_dim": 64, "v_head_dim": 128, "rope_theta": 10000,
                 "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096,
                   "beta_fast": 32, "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707},
                 "max_position_embeddings": 163840, "rms_norm_eps": 1e-6, "bos_token_id": 100000,
                 "eos_token_id": 100001, "tie_word_embeddings": false}
                """.formatted(vocab, layers));
    }
}

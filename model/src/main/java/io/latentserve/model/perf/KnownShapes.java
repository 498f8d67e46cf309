package io.latentserve.model.perf;

import io.latentserve.model.config.ConfigLoader;
import io.latentserve.model.config.ModelConfig;

import java.nio.file.Path;

/** Real model configs for benchmarks with random weights: no checkpoint needed, exact layer shapes. */
public final class KnownShapes {
    public static final int V2_LITE_LAYERS = 27;

    private KnownShapes() {
    }

    /** DeepSeek-V2-Lite's config.json (MODEL_SPEC 1) with the given number of layers: layer 0 dense, the rest MoE. */
    public static ModelConfig deepseekV2Lite(int layers) {
        return ConfigLoader.parse(Path.of("deepseek-v2-lite-shapes.json"), """
                {"architectures": ["DeepseekV2ForCausalLM"], "vocab_size": 102400, "hidden_size": 2048,
                 "intermediate_size": 10944, "moe_intermediate_size": 1408, "num_hidden_layers": %d,
                 "num_attention_heads": 16, "num_key_value_heads": 16, "n_routed_experts": 64, "n_shared_experts": 2,
                 "num_experts_per_tok": 6, "n_group": 1, "topk_group": 1, "topk_method": "greedy",
                 "routed_scaling_factor": 1.0, "norm_topk_prob": false, "scoring_func": "softmax",
                 "first_k_dense_replace": 1, "moe_layer_freq": 1, "q_lora_rank": null, "kv_lora_rank": 512,
                 "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128, "rope_theta": 10000,
                 "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096,
                   "beta_fast": 32, "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707},
                 "max_position_embeddings": 163840, "rms_norm_eps": 1e-6, "bos_token_id": 100000,
                 "eos_token_id": 100001, "tie_word_embeddings": false}
                """.formatted(layers));
    }

    /**
     * A tiny DeepSeek-V2 (every feature of V2-Lite at toy sizes): for smoke runs of benchmark harnesses where
     * the real shapes would take hours, e.g. on the CPU emulation of the CUDA driver.
     */
    public static ModelConfig tinyDeepseekV2(int layers) {
        return ConfigLoader.parse(Path.of("tiny-deepseek-v2-shapes.json"), """
                {"architectures": ["DeepseekV2ForCausalLM"], "vocab_size": 512, "hidden_size": 64,
                 "intermediate_size": 96, "moe_intermediate_size": 32, "num_hidden_layers": %d,
                 "num_attention_heads": 4, "num_key_value_heads": 4, "n_routed_experts": 8, "n_shared_experts": 1,
                 "num_experts_per_tok": 2, "n_group": 1, "topk_group": 1, "topk_method": "greedy",
                 "routed_scaling_factor": 1.0, "norm_topk_prob": false, "scoring_func": "softmax",
                 "first_k_dense_replace": 1, "moe_layer_freq": 1, "q_lora_rank": null, "kv_lora_rank": 32,
                 "qk_nope_head_dim": 16, "qk_rope_head_dim": 8, "v_head_dim": 16, "rope_theta": 10000,
                 "max_position_embeddings": 8192, "rms_norm_eps": 1e-6, "bos_token_id": 1,
                 "eos_token_id": 2, "tie_word_embeddings": false}
                """.formatted(layers));
    }
}

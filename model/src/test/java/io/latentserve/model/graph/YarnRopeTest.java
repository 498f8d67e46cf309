package io.latentserve.model.graph;

import io.latentserve.model.backend.RopeTable;
import io.latentserve.model.config.ConfigLoader;
import io.latentserve.model.config.ModelConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** YaRN frequencies and the softmax scale of DeepSeek-V2-Lite, against the values in MODEL_SPEC 3.2. */
class YarnRopeTest {
    private static final ModelConfig V2_LITE = ConfigLoader.parse(Path.of("v2-lite.json"), """
            {"architectures": ["DeepseekV2ForCausalLM"], "vocab_size": 102400, "hidden_size": 2048,
             "intermediate_size": 10944, "moe_intermediate_size": 1408, "num_hidden_layers": 27,
             "num_attention_heads": 16, "n_routed_experts": 64, "n_shared_experts": 2, "num_experts_per_tok": 6,
             "topk_method": "greedy", "q_lora_rank": null, "kv_lora_rank": 512, "qk_nope_head_dim": 128,
             "qk_rope_head_dim": 64, "v_head_dim": 128, "rope_theta": 10000, "first_k_dense_replace": 1,
             "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096,
               "beta_fast": 32, "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707},
             "max_position_embeddings": 163840, "rms_norm_eps": 1e-6}
            """);

    @Test
    void inverseFrequenciesMatchTheSpec() {
        RopeTable t = YarnRope.forConfig(V2_LITE);
        float[] inv = t.invFreq();
        assertEquals(32, inv.length);
        assertEquals(1.0, inv[0], 1e-7);
        assertEquals(5.623e-2, inv[10], 5e-6);
        assertEquals(3.9007e-2, inv[11], 5e-7);
        assertEquals(1.7783e-4, inv[22], 5e-9);
        assertEquals(3.3338e-5, inv[23], 5e-10);
        assertEquals(3.3338e-6, inv[31], 5e-11);
        assertEquals(1.0f, t.amplitude(), 1e-7, "mscale / mscale_all_dim is 1 with the official config");
    }

    @Test
    void softmaxScaleIncludesMscaleSquared() {
        assertEquals(0.1147214, V2_LITE.softmaxScale(), 1e-7);
    }

    @Test
    void correctionRangeIsTenToTwentyThree() {
        assertEquals(10, Math.floor(YarnRope.correctionDim(32, 64, 10000, 4096)));
        assertEquals(23, Math.ceil(YarnRope.correctionDim(1, 64, 10000, 4096)));
    }
}

package io.latentserve.model.random;

import io.latentserve.model.config.ModelConfig;

import java.util.LinkedHashMap;
import java.util.Map;

/** Every tensor a checkpoint of a config holds, with its HuggingFace name and shape (MODEL_SPEC 2). */
public final class CheckpointShapes {
    private CheckpointShapes() {
    }

    public static Map<String, long[]> of(ModelConfig c) {
        Map<String, long[]> t = new LinkedHashMap<>();
        long d = c.hiddenSize();
        t.put("model.embed_tokens.weight", new long[]{c.vocabSize(), d});
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            t.put(p + "input_layernorm.weight", new long[]{d});
            t.put(p + "post_attention_layernorm.weight", new long[]{d});
            if (c.isDeepseekV2()) {
                mla(t, p + "self_attn.", c);
                if (c.isMoeLayer(i)) {
                    moe(t, p + "mlp.", c);
                } else {
                    mlp(t, p + "mlp.", d, c.intermediateSize());
                }
            } else {
                long q = (long) c.numAttentionHeads() * c.headDim();
                long kv = (long) c.numKeyValueHeads() * c.headDim();
                t.put(p + "self_attn.q_proj.weight", new long[]{q, d});
                t.put(p + "self_attn.k_proj.weight", new long[]{kv, d});
                t.put(p + "self_attn.v_proj.weight", new long[]{kv, d});
                t.put(p + "self_attn.o_proj.weight", new long[]{d, q});
                mlp(t, p + "mlp.", d, c.intermediateSize());
            }
        }
        t.put("model.norm.weight", new long[]{d});
        if (!c.tieWordEmbeddings()) {
            t.put("lm_head.weight", new long[]{c.vocabSize(), d});
        }
        return t;
    }

    private static void mla(Map<String, long[]> t, String p, ModelConfig c) {
        long d = c.hiddenSize();
        long h = c.numAttentionHeads();
        if (c.qLoraRank() == 0) {
            t.put(p + "q_proj.weight", new long[]{h * c.qkHeadDim(), d});
        } else {
            t.put(p + "q_a_proj.weight", new long[]{c.qLoraRank(), d});
            t.put(p + "q_a_layernorm.weight", new long[]{c.qLoraRank()});
            t.put(p + "q_b_proj.weight", new long[]{h * c.qkHeadDim(), c.qLoraRank()});
        }
        t.put(p + "kv_a_proj_with_mqa.weight", new long[]{c.kvLoraRank() + c.qkRopeHeadDim(), d});
        t.put(p + "kv_a_layernorm.weight", new long[]{c.kvLoraRank()});
        t.put(p + "kv_b_proj.weight", new long[]{h * (c.qkNopeHeadDim() + c.vHeadDim()), c.kvLoraRank()});
        t.put(p + "o_proj.weight", new long[]{d, h * c.vHeadDim()});
    }

    private static void moe(Map<String, long[]> t, String p, ModelConfig c) {
        long d = c.hiddenSize();
        t.put(p + "gate.weight", new long[]{c.nRoutedExperts(), d});
        for (int e = 0; e < c.nRoutedExperts(); e++) {
            mlp(t, p + "experts." + e + ".", d, c.moeIntermediateSize());
        }
        if (c.nSharedExperts() > 0) {
            mlp(t, p + "shared_experts.", d, (long) c.nSharedExperts() * c.moeIntermediateSize());
        }
    }

    private static void mlp(Map<String, long[]> t, String p, long d, long inter) {
        t.put(p + "gate_proj.weight", new long[]{inter, d});
        t.put(p + "up_proj.weight", new long[]{inter, d});
        t.put(p + "down_proj.weight", new long[]{d, inter});
    }

    /** True for RMSNorm scales (drawn near 1, not near 0). */
    public static boolean isNorm(String name) {
        return name.endsWith("norm.weight");
    }
}

package io.latentserve.server.cli;

import io.latentserve.model.config.ModelConfig;

/**
 * Bytes one decode step of a single sequence must read (the bandwidth bound): every always-used weight,
 * the routed experts chosen for the token, and the KV cache of its context (MODEL_SPEC 6).
 */
final class DecodeBytes {
    private DecodeBytes() {
    }

    /** @param weightBytes bytes per weight value (2 for BF16); kvBytes per cached value (4 on the CPU) */
    static double perToken(ModelConfig c, int context, int weightBytes, int kvBytes) {
        long d = c.hiddenSize();
        double params = (double) c.vocabSize() * d + d;                  // lm_head, final norm
        for (int layer = 0; layer < c.numHiddenLayers(); layer++) {
            params += 2 * d + attention(c);
            if (c.isMoeLayer(layer)) {
                long expert = 3 * d * c.moeIntermediateSize();
                params += (double) c.nRoutedExperts() * d                   // router
                        + (double) c.nSharedExperts() * expert
                        + (double) c.numExpertsPerTok() * expert;           // experts touched at batch 1
            } else {
                params += 3.0 * d * c.intermediateSize();
            }
        }
        double kv = (double) context * c.kvCacheWidth() * c.numHiddenLayers() * kvBytes;
        return params * weightBytes + kv;
    }

    private static double attention(ModelConfig c) {
        long d = c.hiddenSize();
        long h = c.numAttentionHeads();
        if (!c.isDeepseekV2()) {
            return (double) d * h * c.headDim() * 2 + 2.0 * d * c.numKeyValueHeads() * c.headDim();
        }
        double q = c.qLoraRank() == 0 ? (double) h * c.qkHeadDim() * d
                : (double) c.qLoraRank() * d + c.qLoraRank() + (double) h * c.qkHeadDim() * c.qLoraRank();
        return q + (double) (c.kvLoraRank() + c.qkRopeHeadDim()) * d + c.kvLoraRank()
                + (double) h * (c.qkNopeHeadDim() + c.vHeadDim()) * c.kvLoraRank() + (double) d * h * c.vHeadDim();
    }
}

package io.latentserve.model.perf;

import io.latentserve.model.config.ModelConfig;

/**
 * The hardware bound of a model's steps, from its config alone (MODEL_SPEC 6, BENCHMARKS.md): a decode step
 * must read every always-used weight (attention, dense layers, shared experts, routers, norms, lm_head —
 * not the embedding table, of which it reads one row per token), the distinct routed experts the batch
 * touches, and the KV cache of every sequence's context; prefill must do 2 FLOPs per active parameter per
 * token plus the attention products. Benchmarks divide what they measure by these, with the ceilings
 * (bandwidth, FLOP/s) measured in the same run.
 */
public final class RooflineBound {
    private final ModelConfig c;

    public RooflineBound(ModelConfig config) {
        this.c = config;
    }

    /** Parameters read by every decode step whatever the batch: all but the embedding and the routed experts. */
    public double alwaysUsedParams() {
        long d = c.hiddenSize();
        double params = (double) c.vocabSize() * d + d;                  // lm_head, final norm
        for (int layer = 0; layer < c.numHiddenLayers(); layer++) {
            params += 2 * d + attentionParams();
            if (c.isMoeLayer(layer)) {
                params += (double) c.nRoutedExperts() * d + (double) c.nSharedExperts() * expertParams();
            } else {
                params += 3.0 * d * c.intermediateSize();
            }
        }
        return params;
    }

    /** Parameters of one routed expert (gate, up and down projections). */
    public double expertParams() {
        return 3.0 * c.hiddenSize() * c.moeIntermediateSize();
    }

    public int moeLayers() {
        int n = 0;
        for (int layer = 0; layer < c.numHiddenLayers(); layer++) {
            n += c.isMoeLayer(layer) ? 1 : 0;
        }
        return n;
    }

    /**
     * Expected distinct routed experts per MoE layer that a batch of independent tokens touches, each token
     * choosing top-k of E uniformly: E·(1 − (1 − k/E)^B).
     */
    public double distinctExperts(int batch) {
        if (c.nRoutedExperts() == 0) {
            return 0;
        }
        double e = c.nRoutedExperts();
        return e * (1 - Math.pow(1 - c.numExpertsPerTok() / e, batch));
    }

    /** Bytes of KV cache per context token over all layers. */
    public double kvBytesPerToken(int kvBytes) {
        return (double) c.kvCacheWidth() * c.numHiddenLayers() * kvBytes;
    }

    /**
     * Bytes one decode step of batch sequences, each with context tokens cached, must read.
     *
     * @param weightBytes bytes per weight value (2 for bf16)
     * @param kvBytes     bytes per cached value (2 for a bf16 cache, 4 for f32)
     */
    public double decodeStepBytes(int batch, int context, int weightBytes, int kvBytes) {
        double weights = alwaysUsedParams() + moeLayers() * distinctExperts(batch) * expertParams();
        return weights * weightBytes + (double) batch * context * kvBytesPerToken(kvBytes);
    }

    /** The shortest decode step at this memory bandwidth (bytes per second). */
    public double decodeStepSeconds(int batch, int context, int weightBytes, int kvBytes, double bandwidth) {
        return decodeStepBytes(batch, context, weightBytes, kvBytes) / bandwidth;
    }

    /**
     * FLOPs per prompt token of a prefill of promptTokens: 2 per active parameter (routed experts top-k,
     * lm_head only for the last token) plus QK and PV over the causal context (on average half the prompt),
     * in the decompressed form prefill uses.
     */
    public double prefillFlopsPerToken(int promptTokens) {
        long d = c.hiddenSize();
        double lmHead = (double) c.vocabSize() * d;
        double active = alwaysUsedParams() - lmHead + lmHead / promptTokens
                + moeLayers() * (double) c.numExpertsPerTok() * expertParams();
        double meanContext = (promptTokens + 1) / 2.0;
        int qk = c.isDeepseekV2() ? c.qkHeadDim() : c.headDim();
        int v = c.isDeepseekV2() ? c.vHeadDim() : c.headDim();
        double attention = 2.0 * meanContext * c.numAttentionHeads() * (qk + v) * c.numHiddenLayers();
        return 2 * active + attention;
    }

    private double attentionParams() {
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

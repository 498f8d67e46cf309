package io.latentserve.model.config;

/**
 * What a model's config.json says, in camelCase forms of its field names. Fields that an
 * architecture does not have are 0 / null / false (e.g. MoE fields on Llama).
 */
public record ModelConfig(
        Architecture architecture,
        String modelType,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        int bosTokenId,
        int eosTokenId,
        String torchDtype,
        // Llama
        int headDim,
        // DeepSeek-V2 MLA
        int qLoraRank,          // 0 when q_lora_rank is null (q_proj used directly)
        int kvLoraRank,
        int qkNopeHeadDim,
        int qkRopeHeadDim,
        int vHeadDim,
        // DeepSeek-V2 MoE
        int moeIntermediateSize,
        int nRoutedExperts,     // 0 when n_routed_experts is null (all layers dense)
        int nSharedExperts,
        int numExpertsPerTok,
        int nGroup,
        int topkGroup,
        String topkMethod,      // greedy | group_limited_greedy
        double routedScalingFactor,
        boolean normTopkProb,
        String scoringFunc,
        int firstKDenseReplace,
        int moeLayerFreq) {

    public boolean isDeepseekV2() {
        return architecture == Architecture.DEEPSEEK_V2;
    }

    /** MODEL_SPEC 3: MoE when n_routed_experts is set, layer >= first_k_dense_replace and layer % moe_layer_freq == 0. */
    public boolean isMoeLayer(int layer) {
        return nRoutedExperts > 0 && layer >= firstKDenseReplace && layer % moeLayerFreq == 0;
    }

    public int qkHeadDim() {
        return qkNopeHeadDim + qkRopeHeadDim;
    }

    /** Values cached per token and layer: the latent (kv_lora_rank) plus the shared rotary key for MLA; K and V rows for Llama. */
    public int kvCacheWidth() {
        return isDeepseekV2() ? kvLoraRank + qkRopeHeadDim : 2 * numKeyValueHeads * headDim;
    }

    /** The attention softmax scale, with YaRN's mscale² correction where mscale_all_dim is set (MODEL_SPEC 3.2). */
    public double softmaxScale() {
        if (!isDeepseekV2()) {
            return 1.0 / Math.sqrt(headDim);
        }
        double scale = 1.0 / Math.sqrt(qkHeadDim());
        if (ropeScaling != null && ropeScaling.mscaleAllDim() != 0) {
            double m = RopeScaling.yarnMscale(ropeScaling.factor(), ropeScaling.mscaleAllDim());
            scale *= m * m;
        }
        return scale;
    }

    /** Number of parameters the checkpoint holds, from the shapes this config implies. */
    public long parameterCount() {
        long d = hiddenSize;
        long total = 2L * vocabSize * d + d; // embeddings, lm_head (counted even when tied), final norm
        if (tieWordEmbeddings) {
            total -= (long) vocabSize * d;
        }
        for (int layer = 0; layer < numHiddenLayers; layer++) {
            total += 2 * d + attentionParameters() + feedForwardParameters(layer);
        }
        return total;
    }

    long attentionParameters() {
        long d = hiddenSize;
        long h = numAttentionHeads;
        if (!isDeepseekV2()) {
            return d * h * headDim + 2 * d * numKeyValueHeads * headDim + h * headDim * d;
        }
        long q = qLoraRank == 0 ? h * qkHeadDim() * d : (long) qLoraRank * d + qLoraRank + h * qkHeadDim() * qLoraRank;
        long kvA = (long) (kvLoraRank + qkRopeHeadDim) * d + kvLoraRank;
        long kvB = h * (qkNopeHeadDim + vHeadDim) * kvLoraRank;
        long o = d * h * vHeadDim;
        return q + kvA + kvB + o;
    }

    long feedForwardParameters(int layer) {
        long d = hiddenSize;
        if (!isMoeLayer(layer)) {
            return 3 * d * intermediateSize;
        }
        long expert = 3 * d * moeIntermediateSize;
        return (long) nRoutedExperts * d + (nRoutedExperts + (long) nSharedExperts) * expert;
    }
}

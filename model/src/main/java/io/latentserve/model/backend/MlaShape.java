package io.latentserve.model.backend;

/** The dimensions of one MLA attention (MODEL_SPEC 3.1, 3.3), with the softmax scale already including mscale². */
public record MlaShape(int numHeads, int qkNopeHeadDim, int qkRopeHeadDim, int vHeadDim, int kvLoraRank, float softmaxScale) {
    public int qkHeadDim() {
        return qkNopeHeadDim + qkRopeHeadDim;
    }

    /** Cached values per token: latent + shared rotary key (576 for V2). */
    public int cacheWidth() {
        return kvLoraRank + qkRopeHeadDim;
    }
}

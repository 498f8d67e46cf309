package io.latentserve.model.config;

/**
 * YaRN rope scaling as DeepSeek-V2 configures it (MODEL_SPEC.md 3.2).
 *
 * @param factor s; mscaleAllDim may be 0 when absent (then the softmax scale is not corrected)
 */
public record RopeScaling(String type, double factor, int originalMaxPositionEmbeddings,
                          double betaFast, double betaSlow, double mscale, double mscaleAllDim) {

    /** mscale(s, m) = 1 if s <= 1 else 0.1·m·ln(s) + 1. */
    public static double yarnMscale(double scale, double m) {
        return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
    }
}

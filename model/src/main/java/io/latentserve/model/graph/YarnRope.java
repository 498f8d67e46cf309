package io.latentserve.model.graph;

import io.latentserve.model.backend.RopeStyle;
import io.latentserve.model.backend.RopeTable;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.config.RopeScaling;

/** Rotary frequencies: plain, linear-scaled, or YaRN as DeepSeek-V2 defines it (MODEL_SPEC 3.2). */
public final class YarnRope {
    private YarnRope() {
    }

    public static RopeTable forConfig(ModelConfig c) {
        if (c.isDeepseekV2()) {
            return table(c.qkRopeHeadDim(), c.ropeTheta(), c.ropeScaling(), RopeStyle.INTERLEAVED);
        }
        return table(c.headDim(), c.ropeTheta(), c.ropeScaling(), RopeStyle.SPLIT_HALF);
    }

    static RopeTable table(int dim, double base, RopeScaling scaling, RopeStyle style) {
        int half = dim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            inv[i] = (float) Math.pow(base, -2.0 * i / dim);
        }
        float amplitude = 1f;
        if (scaling != null && scaling.type().equals("linear")) {
            for (int i = 0; i < half; i++) {
                inv[i] = (float) (inv[i] / scaling.factor());
            }
        } else if (scaling != null && scaling.type().equals("yarn")) {
            yarn(inv, dim, base, scaling);
            amplitude = (float) (RopeScaling.yarnMscale(scaling.factor(), scaling.mscale())
                    / RopeScaling.yarnMscale(scaling.factor(), scaling.mscaleAllDim() == 0 ? 1 : scaling.mscaleAllDim()));
        }
        return new RopeTable(inv, amplitude, style);
    }

    /** Blends extrapolated and interpolated frequencies over the correction range [low, high]. */
    private static void yarn(float[] inv, int dim, double base, RopeScaling s) {
        double low = Math.max(Math.floor(correctionDim(s.betaFast(), dim, base, s.originalMaxPositionEmbeddings())), 0);
        double high = Math.min(Math.ceil(correctionDim(s.betaSlow(), dim, base, s.originalMaxPositionEmbeddings())), dim - 1);
        if (low == high) {
            high += 0.001;
        }
        for (int i = 0; i < inv.length; i++) {
            double ramp = Math.clamp((i - low) / (high - low), 0.0, 1.0);
            double extrapolated = Math.pow(base, -2.0 * i / dim);
            double interpolated = extrapolated / s.factor();
            inv[i] = (float) (extrapolated * (1 - ramp) + interpolated * ramp);
        }
    }

    /** The dimension whose wavelength fits numRotations turns into the original context. */
    static double correctionDim(double numRotations, int dim, double base, int originalMax) {
        return dim * Math.log(originalMax / (numRotations * 2 * Math.PI)) / (2 * Math.log(base));
    }
}

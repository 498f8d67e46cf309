package io.latentserve.model.backend;

/**
 * Rotary frequencies of one model: angle(pos, i) = pos · invFreq[i], and the cos/sin amplitude
 * (YaRN's mscale ratio; 1 for plain RoPE).
 */
public record RopeTable(float[] invFreq, float amplitude, RopeStyle style) {
    public int dim() {
        return 2 * invFreq.length;
    }
}

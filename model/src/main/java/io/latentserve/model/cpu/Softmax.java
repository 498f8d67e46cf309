package io.latentserve.model.cpu;

/** Numerically stable softmax in f32 (max subtracted, sum accumulated in double). */
final class Softmax {
    private Softmax() {
    }

    static void inPlace(float[] x, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) StrictMath.exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
            x[i] *= inv;
        }
    }
}

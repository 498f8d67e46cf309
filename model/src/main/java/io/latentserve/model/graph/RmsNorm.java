package io.latentserve.model.graph;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.Tensor;

/** y = x · rsqrt(mean(x²) + eps) · weight. */
record RmsNorm(Tensor weight, float eps) {
    static RmsNorm load(Weights w, String name, int dim, double eps) {
        return new RmsNorm(w.get(name, dim), (float) eps);
    }

    void apply(Backend b, Tensor x, Tensor out) {
        b.rmsNorm(x, weight, eps, out);
    }

    /** residual += x, then out = this norm of residual (the backend may fuse the two). */
    void applyAfterAdd(Backend b, Tensor residual, Tensor x, Tensor out) {
        b.addRmsNorm(residual, x, weight, eps, out);
    }
}

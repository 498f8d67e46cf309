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
}

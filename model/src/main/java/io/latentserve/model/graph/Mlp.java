package io.latentserve.model.graph;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.ExpertWeights;
import io.latentserve.model.backend.Tensor;

/** The SwiGLU MLP: down(silu(gate(x)) ⊙ up(x)); also the shared experts of an MoE layer. */
record Mlp(ExpertWeights weights, int intermediate) {
    static Mlp load(Weights w, String prefix, int hidden, int intermediate) {
        return new Mlp(new ExpertWeights(
                w.get(prefix + "gate_proj.weight", intermediate, hidden),
                w.get(prefix + "up_proj.weight", intermediate, hidden),
                w.get(prefix + "down_proj.weight", hidden, intermediate)), intermediate);
    }

    /** out = MLP(x), x and out [T, hidden]. */
    void forward(Backend b, Tensor x, Tensor out) {
        weights.forward(b, x, out);
    }
}

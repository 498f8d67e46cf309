package io.latentserve.model.graph;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.ExpertWeights;
import io.latentserve.model.backend.RouterConfig;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.config.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/** DeepSeekMoE: routed experts chosen by the gate plus always-on shared experts (MODEL_SPEC 3.4). */
final class Moe {
    private final Tensor gate;              // [E, D]
    private final RouterConfig router;
    private final List<ExpertWeights> experts;
    private final Mlp shared;               // width S·Im, null when n_shared_experts is 0

    Moe(Weights w, String prefix, ModelConfig c) {
        int d = c.hiddenSize();
        int im = c.moeIntermediateSize();
        this.gate = w.get(prefix + "gate.weight", c.nRoutedExperts(), d);
        this.router = new RouterConfig(c.nRoutedExperts(), c.numExpertsPerTok(),
                c.topkMethod().equals("group_limited_greedy"), c.nGroup(), c.topkGroup(), c.normTopkProb(),
                (float) c.routedScalingFactor());
        this.experts = new ArrayList<>(c.nRoutedExperts());
        for (int e = 0; e < c.nRoutedExperts(); e++) {
            experts.add(Mlp.load(w, prefix + "experts." + e + ".", d, im).weights());
        }
        this.shared = c.nSharedExperts() > 0
                ? Mlp.load(w, prefix + "shared_experts.", d, c.nSharedExperts() * im) : null;
    }

    /**
     * out = Σ_k w_k·Expert_k(x) + Shared(x); x and out [T, D], out freshly allocated (zero). The shared MLP goes to
     * the backend with the routed experts, so that one that can folds it into the same pass.
     */
    void forward(Backend b, Tensor x, Tensor out) {
        b.moe(x, gate, router, experts, shared != null ? shared.weights() : null, out);
    }
}

package io.latentserve.model.cpu;

import io.latentserve.model.backend.ExpertWeights;
import io.latentserve.model.backend.MoeRouting;
import io.latentserve.model.backend.RouterConfig;

import java.util.Arrays;
import java.util.List;

/** DeepSeek-V2 routing (MODEL_SPEC 3.4) and routed experts, token rows grouped per expert. */
final class MoeCpu {
    private final Parallel parallel;

    MoeCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    MoeRouting route(CpuActivation x, CpuWeight gate, RouterConfig cfg) {
        int tokens = x.rows();
        CpuActivation logits = CpuActivation.allocate(tokens, cfg.numExperts()); // [T, E] f32
        Matmul.matmul(parallel, x, gate, logits);
        int[] experts = new int[tokens * cfg.topK()];
        float[] weights = new float[tokens * cfg.topK()];
        for (int t = 0; t < tokens; t++) {
            float[] scores = logits.copyRow(t);
            Softmax.inPlace(scores, scores.length);
            float[] candidates = cfg.groupLimited() ? keepBestGroups(scores, cfg) : scores;
            selectTopK(scores, candidates, cfg, experts, weights, t * cfg.topK());
        }
        return new MoeRouting(tokens, cfg.topK(), experts, weights);
    }

    /** Scores with every expert outside the topk_group best groups (group score = its max) set to -inf. */
    static float[] keepBestGroups(float[] scores, RouterConfig cfg) {
        int perGroup = cfg.numExperts() / cfg.numGroups();
        float[] groupMax = new float[cfg.numGroups()];
        for (int g = 0; g < cfg.numGroups(); g++) {
            float m = Float.NEGATIVE_INFINITY;
            for (int e = g * perGroup; e < (g + 1) * perGroup; e++) {
                m = Math.max(m, scores[e]);
            }
            groupMax[g] = m;
        }
        boolean[] keep = new boolean[cfg.numGroups()];
        for (int k = 0; k < cfg.topkGroup(); k++) {
            int best = -1;
            for (int g = 0; g < cfg.numGroups(); g++) {
                if (!keep[g] && (best < 0 || groupMax[g] > groupMax[best])) {
                    best = g;
                }
            }
            keep[best] = true;
        }
        float[] masked = scores.clone();
        for (int g = 0; g < cfg.numGroups(); g++) {
            if (!keep[g]) {
                Arrays.fill(masked, g * perGroup, (g + 1) * perGroup, Float.NEGATIVE_INFINITY);
            }
        }
        return masked;
    }

    /** Top-k of candidates (ties to the lower id); weights from the unmasked softmax scores. */
    private static void selectTopK(float[] scores, float[] candidates, RouterConfig cfg, int[] experts, float[] weights,
                                   int out) {
        boolean[] taken = new boolean[candidates.length];
        float sum = 0;
        for (int k = 0; k < cfg.topK(); k++) {
            int best = -1;
            for (int e = 0; e < candidates.length; e++) {
                if (!taken[e] && (best < 0 || candidates[e] > candidates[best])) {
                    best = e;
                }
            }
            taken[best] = true;
            experts[out + k] = best;
            weights[out + k] = scores[best];
            sum += scores[best];
        }
        for (int k = 0; k < cfg.topK(); k++) {
            if (cfg.normTopkProb() && cfg.topK() > 1) {
                weights[out + k] = (float) (weights[out + k] / (sum + 1e-20));
            } else {
                weights[out + k] *= cfg.routedScalingFactor();
            }
        }
    }

    /** out += Σ_k w_k · expert_k(x): gathers the tokens of each expert and runs its MLP once on them. */
    void experts(CpuActivation x, MoeRouting routing, List<ExpertWeights> experts, CpuActivation out) {
        int hidden = x.cols();
        for (int e = 0; e < experts.size(); e++) {
            int count = 0;
            for (int i = 0; i < routing.experts().length; i++) {
                if (routing.experts()[i] == e) {
                    count++;
                }
            }
            if (count == 0) {
                continue;
            }
            int[] tokenOf = new int[count];
            float[] weightOf = new float[count];
            CpuActivation rows = CpuActivation.allocate(count, hidden); // [n_e, D] f32
            int n = 0;
            for (int i = 0; i < routing.experts().length; i++) {
                if (routing.experts()[i] == e) {
                    tokenOf[n] = i / routing.topK();
                    weightOf[n] = routing.weights()[i];
                    System.arraycopy(x.data(), x.index(tokenOf[n], 0), rows.data(), n * hidden, hidden);
                    n++;
                }
            }
            CpuActivation y = mlp(rows, experts.get(e));
            for (int j = 0; j < count; j++) {
                VectorKernels.axpy(weightOf[j], y.data(), j * hidden, out.data(), out.index(tokenOf[j], 0), hidden);
            }
        }
    }

    /** down(silu(gate(x)) ⊙ up(x)) for the rows of x. */
    CpuActivation mlp(CpuActivation x, ExpertWeights w) {
        CpuWeight gate = CpuWeight.of(w.gateProj());
        CpuActivation g = CpuActivation.allocate(x.rows(), gate.rows()); // [n, I] f32
        CpuActivation u = CpuActivation.allocate(x.rows(), gate.rows()); // [n, I] f32
        Matmul.matmul(parallel, x, gate, g);
        Matmul.matmul(parallel, x, CpuWeight.of(w.upProj()), u);
        Elementwise.siluMul(g, u, g);
        CpuActivation y = CpuActivation.allocate(x.rows(), x.cols());    // [n, D] f32
        Matmul.matmul(parallel, g, CpuWeight.of(w.downProj()), y);
        return y;
    }
}

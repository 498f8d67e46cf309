package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.CopyRowsParams;
import io.latentserve.cuda.kernels.MoeCombineParams;
import io.latentserve.cuda.kernels.SiluMulParams;
import io.latentserve.model.backend.ExpertWeights;
import io.latentserve.model.backend.MoeRouting;

import java.util.List;

/**
 * The routed experts with the routing on the host, one expert at a time: the x rows gathered by expert
 * (ls_copy_rows), three cuBLAS GEMMs and ls_silu_mul per touched expert, one weighted ls_moe_combine. The path of
 * last resort ({@link CudaMoePath#PER_EXPERT}): any dtypes and shapes, no grouped GEMM needed.
 */
final class CudaPerExpertMoe {
    private final Kernels kernels;
    private final StepMemory memory;
    private final Gemm gemm;

    CudaPerExpertMoe(Kernels kernels, StepMemory memory, Gemm gemm) {
        this.kernels = kernels;
        this.memory = memory;
        this.gemm = gemm;
    }

    /**
     * out += Σ_k w_k · expert_k(x), contributions added in ascending expert id as the CPU backend adds them; the
     * caller checked the shapes and that every id names one of the experts.
     */
    void run(CudaActivation x, MoeRouting routing, List<ExpertWeights> experts, CudaActivation out) {
        int tokens = x.rows();
        int k = routing.topK();
        int hidden = x.cols();
        int pairs = tokens * k;
        int[] count = new int[experts.size() + 1];
        for (int id : routing.experts()) {
            count[id + 1]++;
        }
        int[] start = new int[experts.size() + 1];          // first gathered row of each expert
        for (int e = 0; e < experts.size(); e++) {
            start[e + 1] = start[e] + count[e + 1];
        }
        int[] next = start.clone();
        int[] tokenOfRow = new int[pairs];                  // gathered row -> token
        int[] rowOfPair = new int[pairs];                   // (t, k) -> gathered row
        for (int i = 0; i < pairs; i++) {                   // i = t·K + k, tokens ascending within an expert
            int row = next[routing.experts()[i]]++;
            tokenOfRow[row] = i / k;
            rowOfPair[i] = row;
        }
        int[] combineRows = new int[pairs];
        float[] combineWeights = new float[pairs];
        orderByExpert(routing, rowOfPair, combineRows, combineWeights);
        try (StepMemory.Scratch s = memory.scratch()) {
            long xs = s.floats((long) pairs * hidden);       // [P, D] f32: x rows gathered by expert
            kernels.launch(new CopyRowsParams(x.address(), s.ints(tokenOfRow), xs, 0, pairs, hidden, x.stride(), hidden),
                    Kernels.rowsByCols(pairs, hidden));
            long ys = s.floats((long) pairs * hidden);       // [P, D] f32: expert outputs
            for (int e = 0; e < experts.size(); e++) {
                int rows = start[e + 1] - start[e];
                if (rows > 0) {
                    mlp(memory.view(xs, pairs, hidden).rowRange(start[e], rows), experts.get(e),
                            memory.view(ys, pairs, hidden).rowRange(start[e], rows));
                }
            }
            kernels.launch(new MoeCombineParams(ys, s.ints(combineRows), s.floats(combineWeights), out.address(),
                    tokens, hidden, k, out.stride()), Kernels.rowsByCols(tokens, hidden));
        }
    }

    /** y = down(silu(gate(x)) ⊙ up(x)) for the rows of x. */
    private void mlp(CudaActivation x, ExpertWeights w, CudaActivation y) {
        CudaWeight gate = CudaWeight.of(w.gateProj(), "expert gate_proj");
        CudaWeight up = CudaWeight.of(w.upProj(), "expert up_proj");
        CudaWeight down = CudaWeight.of(w.downProj(), "expert down_proj");
        int inter = gate.rows();
        try (StepMemory.Scratch s = memory.scratch()) {
            CudaActivation g = memory.view(s.floats((long) x.rows() * inter), x.rows(), inter); // [n, I] f32
            CudaActivation u = memory.view(s.floats((long) x.rows() * inter), x.rows(), inter); // [n, I] f32
            gemm.matmul(x, gate, g);
            gemm.matmul(x, up, u);
            kernels.launch(new SiluMulParams(g.address(), u.address(), g.address(), x.rows(), inter, inter, inter, inter),
                    Kernels.rowsByCols(x.rows(), inter));
            gemm.matmul(g, down, y);
        }
    }

    /** Each token's (row, weight) pairs sorted by expert id. */
    private static void orderByExpert(MoeRouting routing, int[] rowOfPair, int[] rows, float[] weights) {
        int k = routing.topK();
        Integer[] order = new Integer[k];
        for (int t = 0; t < routing.numTokens(); t++) {
            int base = t * k;
            for (int j = 0; j < k; j++) {
                order[j] = j;
            }
            java.util.Arrays.sort(order, (a, b) -> Integer.compare(routing.experts()[base + a], routing.experts()[base + b]));
            for (int j = 0; j < k; j++) {
                rows[base + j] = rowOfPair[base + order[j]];
                weights[base + j] = routing.weights()[base + order[j]];
            }
        }
    }
}

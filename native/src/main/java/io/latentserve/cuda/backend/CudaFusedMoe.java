package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.MoeCombineParams;
import io.latentserve.cuda.kernels.MoeDownParams;
import io.latentserve.cuda.kernels.MoeGateUpParams;
import io.latentserve.cuda.kernels.MoeSortParams;

/**
 * The routed experts of a decode-sized batch in four launches, all on the device: ls_moe_sort regroups the
 * routing by expert, ls_moe_gate_up and ls_moe_down read each touched expert's weights once for all its
 * tokens (blocks of untouched experts exit before reading anything: decode is bound by the bytes of the
 * touched experts), ls_moe_combine adds the weighted outputs in ascending expert id, as the CPU backend.
 * The grids cover every expert, so the host never needs the per-expert counts.
 */
final class CudaFusedMoe {
    /**
     * Largest batch taken by the fused kernels (not measured; the reasoning): they run on CUDA cores and
     * keep 8 rows of an expert in registers, walking the expert's weight tile again (from L2) for each
     * further 8, so their cost grows with tokens per expert, while the cuBLAS path pays per-expert launches
     * and a host round trip (fixed costs that only amortize over many rows). At 256 tokens, top-6 of 64
     * experts averages 24 rows per expert: still a few passes, and the largest decode batch the scheduler
     * is expected to form; prefill chunks above it are compute bound and stay on tensor-core GEMMs.
     */
    static final int MAX_TOKENS = 256;

    private final Kernels kernels;
    private final StepMemory memory;

    CudaFusedMoe(Kernels kernels, StepMemory memory) {
        this.kernels = kernels;
        this.memory = memory;
    }

    /**
     * out += Σ_k w_k · expert_k(x) for the routing on the device (experts [T, K] int32, weights [T, K] f32,
     * ids in [0, E), distinct per token), scratch from s.
     */
    void run(StepMemory.Scratch s, CudaActivation x, long experts, long weights, int topK, CudaExpertTables.Table t,
             CudaActivation out) {
        int tokens = x.rows();
        int pairs = tokens * topK;
        int e = t.numExperts();
        if (pairs == 0) {
            return;
        }
        long offsets = s.bytes(4L * (e + 1));          // [E + 1] int32
        long rowToken = s.bytes(4L * pairs);           // [P] int32
        long pairRows = s.bytes(4L * pairs);           // [T, K] int32, ascending expert id per token
        long pairWeights = s.floats(pairs);            // [T, K] f32, same order
        kernels.launch(new MoeSortParams(experts, weights, offsets, rowToken, pairRows, pairWeights, tokens, topK, e),
                Grid.of(1, KernelLimits.THREADS));
        long h = s.floats((long) pairs * t.inter());   // [P, I] f32: silu(gate x) * (up x), rows by expert
        kernels.launch(new MoeGateUpParams(x.address(), t.gate(), t.up(), offsets, rowToken, h, e, t.hidden(), t.inter(),
                x.stride(), t.inter(), t.dtype()),
                Grid.of(e, KernelLimits.blocks(t.inter(), KernelLimits.MOE_GATE_UP_ROWS), KernelLimits.THREADS));
        long y = s.floats((long) pairs * t.hidden());  // [P, D] f32: expert outputs, rows by expert
        kernels.launch(new MoeDownParams(h, t.down(), offsets, y, e, t.hidden(), t.inter(), t.inter(), t.hidden(),
                t.dtype()),
                Grid.of(e, KernelLimits.blocks(t.hidden(), KernelLimits.MOE_DOWN_ROWS), KernelLimits.THREADS));
        kernels.launch(new MoeCombineParams(y, pairRows, pairWeights, out.address(), tokens, t.hidden(), topK,
                out.stride()), Kernels.rowsByCols(tokens, t.hidden()));
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.cublas.Cublas;
import io.latentserve.cuda.cublas.CublasException;
import io.latentserve.cuda.cublas.GroupedGemmPlan;
import io.latentserve.cuda.kernels.AddParams;
import io.latentserve.cuda.kernels.CopyRowsParams;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.MoeCombineParams;
import io.latentserve.cuda.kernels.MoeSortParams;
import io.latentserve.cuda.kernels.SiluMulParams;
import io.latentserve.model.backend.ExpertWeights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Optional;

/**
 * The routed experts of a large batch (prefill chunks) on tensor cores: two cublasGemmGroupedBatchedEx calls
 * for all touched experts together instead of three GEMMs (each with its split and add) per expert.
 *
 * <p>ls_moe_sort regroups the routing by expert on the device; only the per-expert offsets (E + 1 ints) come
 * to the host, because the GEMM sizes (rows per expert) are host arguments of cuBLAS: one sync per layer,
 * small next to the GEMMs of a batch this size. The gathered rows are split into bf16 hi + lo halves as
 * {@link Gemm} splits them (about 16 significant bits of each f32 activation; the weights are bf16), each
 * half a problem of its own (the halves of an expert are not adjacent rows after one split launch), and
 * the halves' f32 products are summed by ls_add. At --matmul-precision medium (split false) the rows are only
 * rounded to bf16 and the hi half alone is multiplied, straight into the buffers the next step reads: no lo
 * problems, no adds. Experts without rows are left out of the groups.
 */
final class CudaGroupedMoe {
    /** Each touched expert's weight addresses, for a list of uniform bf16 experts of one shape. */
    record Experts(long[] gate, long[] up, long[] down, int hidden, int inter) {
        /** The experts' addresses, or empty when they are not all bf16 [I, D] / [I, D] / [D, I] weights. */
        static Optional<Experts> of(List<ExpertWeights> experts, int hidden) {
            return ExpertAddresses.of(experts)
                    .filter(x -> x.count() <= KernelLimits.MOE_MAX_EXPERTS && x.dtype() == KernelLimits.DTYPE_BF16
                            && x.hidden() == hidden && x.inter() >= 1)
                    .map(x -> new Experts(x.gate(), x.up(), x.down(), x.hidden(), x.inter()));
        }
    }

    private final CudaContext ctx;
    private final Kernels kernels;
    private final StepMemory memory;
    /** Why the grouped path cannot run here (no symbol, or cuBLAS refused bf16 -> f32 grouped GEMMs), or null. */
    private volatile String unavailable;

    CudaGroupedMoe(CudaContext ctx, Kernels kernels, StepMemory memory) {
        this.ctx = ctx;
        this.kernels = kernels;
        this.memory = memory;
        this.unavailable = ctx.cublas().hasGroupedGemm() ? null
                : ctx.cublas().library() + " has no cublasGemmGroupedBatchedEx (cuBLAS 12.5 or newer)";
    }

    boolean available() {
        return unavailable == null;
    }

    /** Why {@link #available()} is false, or null. */
    String unavailableReason() {
        return unavailable;
    }

    /**
     * out += Σ_k w_k · expert_k(x) for the routing on the device (experts [T, K] int32, weights [T, K] f32, ids
     * in [0, E), distinct per token), scratch from s; split: each f32 activation as bf16 hi + lo (else rounded
     * to bf16). False, with nothing written to out, when cuBLAS turns the grouped GEMM down (the path is then
     * marked unavailable and the caller runs another).
     */
    boolean run(StepMemory.Scratch s, CudaActivation x, long expertIds, long weights, int topK, Experts w,
                boolean split, CudaActivation out) {
        int tokens = x.rows();
        int pairs = tokens * topK;
        int e = w.gate().length;
        int d = w.hidden();
        int inter = w.inter();
        if (pairs == 0) {
            return true;
        }
        long offsets = s.bytes(4L * (e + 1));          // [E + 1] int32
        long rowToken = s.bytes(4L * pairs);           // [P] int32
        long pairRows = s.bytes(4L * pairs);           // [T, K] int32, ascending expert id per token
        long pairWeights = s.floats(pairs);            // [T, K] f32, same order
        kernels.launch(new MoeSortParams(expertIds, weights, offsets, rowToken, pairRows, pairWeights, tokens, topK, e,
                0), Grid.of(1, KernelLimits.THREADS));
        int[] start = new int[e + 1];
        MemorySegment host = memory.downloadPinned(offsets, 4L * (e + 1)); // syncs: the GEMM sizes are host data
        MemorySegment.copy(host, ValueLayout.JAVA_INT, 0, start, 0, e + 1);

        long xs = s.floats((long) pairs * d);          // [P, D] f32: x rows gathered by expert
        kernels.launch(new CopyRowsParams(x.address(), rowToken, xs, 0, pairs, d, x.stride(), d),
                Kernels.rowsByCols(pairs, d));
        long xSplit = kernels.splitBf16(s, xs, pairs, d, d, split);
        // [2P, 2I] f32 (split; else [P, 2I]): rows [0, P) the hi halves' products, [P, 2P) the lo halves';
        // columns [0, I) gate, [I, 2I) up
        long gu = s.floats((split ? 4L : 2L) * pairs * inter);
        GroupedGemmPlan gateUp = new GroupedGemmPlan();
        for (int ex = 0; ex < e; ex++) {
            int rows = start[ex + 1] - start[ex];
            if (rows == 0) {
                continue;
            }
            long hi = xSplit + 2L * start[ex] * d;
            long lo = hi + 2L * pairs * d;
            long cHi = gu + 4L * start[ex] * 2 * inter;
            long cLo = cHi + 4L * pairs * 2 * inter;
            if (split) {
                gateUp.add(true, rows, inter, d, 1f, new long[]{hi, lo, hi, lo}, d,
                        new long[]{w.gate()[ex], w.gate()[ex], w.up()[ex], w.up()[ex]}, d, 0f,
                        new long[]{cHi, cLo, cHi + 4L * inter, cLo + 4L * inter}, 2 * inter);
            } else {
                gateUp.add(true, rows, inter, d, 1f, new long[]{hi, hi}, d, new long[]{w.gate()[ex], w.up()[ex]}, d,
                        0f, new long[]{cHi, cHi + 4L * inter}, 2 * inter);
            }
        }
        if (!grouped(s, gateUp)) {
            return false;
        }
        if (split) {
            kernels.launch(new AddParams(gu, gu + 8L * pairs * inter, gu, pairs, 2 * inter, 2 * inter, 2 * inter,
                    2 * inter), Kernels.rowsByCols(pairs, 2 * inter));
        }
        long h = s.floats((long) pairs * inter);       // [P, I] f32: silu(gate) * up
        kernels.launch(new SiluMulParams(gu, gu + 4L * inter, h, pairs, inter, 2 * inter, 2 * inter, inter),
                Kernels.rowsByCols(pairs, inter));
        long hSplit = kernels.splitBf16(s, h, pairs, inter, inter, split);
        long y = s.floats((split ? 2L : 1L) * pairs * d);   // [2P, D] f32: hi products, then lo products (split)
        GroupedGemmPlan down = new GroupedGemmPlan();
        for (int ex = 0; ex < e; ex++) {
            int rows = start[ex + 1] - start[ex];
            if (rows > 0) {
                long hi = hSplit + 2L * start[ex] * inter;
                long cHi = y + 4L * start[ex] * d;
                long[] a = split ? new long[]{hi, hi + 2L * pairs * inter} : new long[]{hi};
                long[] b = split ? new long[]{w.down()[ex], w.down()[ex]} : new long[]{w.down()[ex]};
                long[] c = split ? new long[]{cHi, cHi + 4L * pairs * d} : new long[]{cHi};
                down.add(true, rows, d, inter, 1f, a, inter, b, inter, 0f, c, d);
            }
        }
        if (!grouped(s, down)) {
            throw new IllegalStateException("cuBLAS took the grouped gate/up GEMM but not the down GEMM: " + unavailable);
        }
        if (split) {
            kernels.launch(new AddParams(y, y + 4L * pairs * d, y, pairs, d, d, d, d), Kernels.rowsByCols(pairs, d));
        }
        kernels.launch(new MoeCombineParams(y, pairRows, pairWeights, out.address(), tokens, d, topK, out.stride()),
                Kernels.rowsByCols(tokens, d));
        return true;
    }

    /**
     * One grouped GEMM of bf16 operands into f32. cuBLAS documents its type combinations per release; one it
     * refuses (NOT_SUPPORTED, ARCH_MISMATCH, INVALID_VALUE for the types) is remembered, so later batches
     * go straight to another path, and reported as false.
     */
    private boolean grouped(StepMemory.Scratch s, GroupedGemmPlan plan) {
        long a = s.longs(plan.cublasA());
        long b = s.longs(plan.cublasB());
        long c = s.longs(plan.c());
        kernels.graphs().eager();       // cuBLAS is never captured (the offsets' download already made it so)
        try {
            ctx.cublas().rowMajorGemmGroupedBatched(ctx.cublasHandle(), plan, Cublas.CUDA_R_16BF, Cublas.CUDA_R_16BF,
                    Cublas.CUDA_R_32F, a, b, c);
            return true;
        } catch (CublasException ex) {
            if (ex.status() != 15 && ex.status() != 8 && ex.status() != 7) {
                throw ex;
            }
            unavailable = ex.getMessage();
            System.getLogger(CudaGroupedMoe.class.getName()).log(System.Logger.Level.WARNING,
                    "grouped MoE GEMMs unavailable, falling back to per-expert GEMMs: " + unavailable);
            return false;
        }
    }
}

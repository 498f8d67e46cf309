package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.KernelModule;
import io.latentserve.cuda.kernels.KernelParams;
import io.latentserve.cuda.kernels.SplitBf16Params;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** Launches the fatbin's kernels on the context's stream. */
final class Kernels {
    private final CudaContext ctx;
    private final KernelModule module;
    private final StepGraphs graphs;
    private final KernelTimes times;

    Kernels(CudaContext ctx, KernelModule module, StepGraphs graphs) {
        this.ctx = ctx;
        this.module = module;
        this.graphs = graphs;
        this.times = new KernelTimes(ctx);
    }

    StepGraphs graphs() {
        return graphs;
    }

    /** GPU time per kernel (and cuBLAS call) issued now, while switched on (the benchmark's profile). */
    KernelTimes times() {
        return times;
    }

    /** One block row per row, LS_THREADS columns per block: the element-wise kernels' launch shape. */
    static Grid rowsByCols(int rows, int cols) {
        return Grid.of(rows, KernelLimits.blocks(cols, KernelLimits.THREADS), KernelLimits.THREADS);
    }

    /** One block per (work row, head), ATTN_WARPS warps each: ls_attention's launch shape. */
    static Grid attentionGrid(int work, int heads, int d1, int d2, int dv) {
        return new Grid(work, heads, 1, 32 * KernelLimits.ATTN_WARPS, KernelLimits.attentionSharedBytes(d1, d2, dv));
    }

    /** Launches now, or records the launch while a pass is being recorded (see {@link StepGraphs}). */
    void launch(KernelParams params, Grid grid) {
        if (!graphs.deferring()) {
            times.around(params.kernel(), () -> module.launch(params, grid, ctx.streamHandle()));
            return;
        }
        if (grid.isEmpty()) {
            return;
        }
        MemorySegment struct = params.write(graphs.structs());
        long[] bytes = StepGraphs.bytesOf(struct);
        long[] values = Arrays.copyOf(bytes, bytes.length + 5);
        values[bytes.length] = params.kernel().hashCode();
        values[bytes.length + 1] = grid.gx();
        values[bytes.length + 2] = ((long) grid.gy() << 32) | grid.gz();
        values[bytes.length + 3] = grid.threads();
        values[bytes.length + 4] = grid.sharedBytes();
        String kernel = params.kernel();
        long stream = ctx.streamHandle();
        graphs.record(() -> module.launch(kernel, grid, struct, stream), values);
    }

    /**
     * x [rows, cols] f32 (row stride xStride) as bf16 hi rows then, withLo, lo rows, dense, in the scratch
     * (ls_split_bf16): returns the hi block's address; the lo block starts 2·rows·cols bytes later. The operand
     * form of every tensor-core product over f32 activations (Gemm, the grouped MoE, prefill attention).
     */
    long splitBf16(StepMemory.Scratch s, long x, int rows, int cols, int xStride, boolean withLo) {
        long split = s.bytes((withLo ? 2L : 1L) * 2 * rows * cols);
        launch(new SplitBf16Params(x, split, rows, cols, xStride, !withLo), rowsByCols(rows, cols));
        return split;
    }

    CudaContext ctx() {
        return ctx;
    }

    void close() {
        times.close();
        module.close();
    }
}

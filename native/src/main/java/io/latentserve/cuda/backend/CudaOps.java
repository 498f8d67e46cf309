package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.kernels.CopyRowsParams;
import io.latentserve.cuda.kernels.KernelModule;
import io.latentserve.model.backend.MatmulPrecision;
import io.latentserve.model.backend.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The parts of the CUDA backend and what its operations share: the context, the kernels, the memories
 * (weights, KV caches, per-step activations) and the helpers every operation uses.
 */
abstract sealed class CudaOps permits CudaBackend {
    final CudaContext ctx;
    final Kernels kernels;
    final StepMemory memory;
    final CudaWeights weights;
    final CudaKvCaches kvCaches;
    final RopeTables ropeTables;
    final Gemm gemm;
    final CudaAttention attention;
    final CudaMoe moe;
    final DeferredTokens deferred;
    final CudaRowSampling rowSampling;
    final CudaEmbedding embedding;
    final CudaElementwise elementwise;
    final StepGraphs graphs;
    private boolean closed;

    CudaOps(CudaContext ctx, KernelModule module, boolean stepGraphs, MatmulPrecision precision) {
        this.ctx = ctx;
        this.graphs = new StepGraphs(ctx, stepGraphs);
        this.kernels = new Kernels(ctx, module, graphs);
        this.memory = new StepMemory(ctx, graphs);
        this.weights = new CudaWeights(ctx);
        this.kvCaches = new CudaKvCaches(ctx);
        this.ropeTables = new RopeTables(ctx, graphs);
        this.gemm = new Gemm(ctx, kernels, memory, precision);
        this.attention = new CudaAttention(kernels, memory, gemm);
        this.moe = new CudaMoe(kernels, memory, gemm);
        this.deferred = new DeferredTokens(ctx);
        this.rowSampling = new CudaRowSampling(kernels, memory, deferred, this::downloadRows);
        this.embedding = new CudaEmbedding(kernels, memory, deferred);
        this.elementwise = new CudaElementwise(kernels, memory, ropeTables);
    }

    /** The activation behind a Tensor, checked to belong to the current step. */
    final CudaActivation act(Tensor t, String what) {
        CudaActivation a = CudaActivation.of(t, what);
        memory.check(a, what);
        return a;
    }

    /** The activation's rows, row after row, once the stream has computed them. */
    final float[] download(CudaActivation a) {
        int count = Math.multiplyExact(a.rows(), a.cols());
        float[] out = new float[count];
        if (count == 0) {
            ctx.synchronize();
            return out;
        }
        try (StepMemory.Scratch s = memory.scratch()) {
            MemorySegment seg = memory.downloadPinned(dense(s, a), 4L * count);
            MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT, 0, out, 0, count);
        }
        return out;
    }

    /** The activation's rows as arrays, copied once out of the pinned landing buffer. */
    final float[][] downloadRows(CudaActivation a) {
        int rows = a.rows();
        int cols = a.cols();
        float[][] out = new float[rows][cols];
        long count = (long) rows * cols;
        if (count == 0) {
            ctx.synchronize();
            return out;
        }
        try (StepMemory.Scratch s = memory.scratch()) {
            MemorySegment seg = memory.downloadPinned(dense(s, a), 4L * count);
            for (int i = 0; i < rows; i++) {
                MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT, 4L * i * cols, out[i], 0, cols);
            }
        }
        return out;
    }

    /** The activation's address if its rows are dense, else a dense copy in the scratch. */
    private long dense(StepMemory.Scratch s, CudaActivation a) {
        if (a.contiguous()) {
            return a.address();
        }
        long dense = s.floats((long) a.rows() * a.cols());
        kernels.launch(new CopyRowsParams(a.address(), 0, dense, 0, a.rows(), a.cols(), a.stride(), a.cols()),
                Kernels.rowsByCols(a.rows(), a.cols()));
        return dense;
    }

    /** Frees the kernels, tables and the context (with its arenas). */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        for (Runnable step : new Runnable[]{ctx::makeCurrent, graphs::eager, ctx::synchronize, graphs::close,
                deferred::close, memory::close, ropeTables::close,
                kernels::close, ctx::close}) {
            try {
                step.run();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}

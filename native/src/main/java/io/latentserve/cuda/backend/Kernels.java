package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.KernelModule;
import io.latentserve.cuda.kernels.KernelParams;

/** Launches the fatbin's kernels on the context's stream. */
final class Kernels {
    private final CudaContext ctx;
    private final KernelModule module;

    Kernels(CudaContext ctx, KernelModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    /** One block row per row, LS_THREADS columns per block: the element-wise kernels' launch shape. */
    static Grid rowsByCols(int rows, int cols) {
        return Grid.of(rows, KernelLimits.blocks(cols, KernelLimits.THREADS), KernelLimits.THREADS);
    }

    void launch(KernelParams params, Grid grid) {
        module.launch(params, grid, ctx.streamHandle());
    }

    CudaContext ctx() {
        return ctx;
    }

    void close() {
        module.close();
    }
}

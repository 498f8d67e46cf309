package io.latentserve.cuda.bench;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.cublas.Cublas;

import java.lang.foreign.MemorySegment;

/**
 * This GPU's ceilings, measured in the run that uses them (BENCHMARKS.md method): device-to-device copy
 * bandwidth, counted as bytes read plus bytes written per second (the convention of the "~4.3 TB/s" H200
 * figure), and dense bf16 GEMM throughput (8192³ bf16 inputs, f32 accumulation and output, cuBLAS default math).
 *
 * @param copyBytesPerSecond bytes read + written per second by cuMemcpyDtoD of 1 GiB
 * @param bf16FlopsPerSecond FLOP/s of the best of a few 8192³ bf16 GEMMs
 */
public record DeviceCeilings(double copyBytesPerSecond, double bf16FlopsPerSecond) {
    public static final long COPY_BYTES = 1L << 30;
    public static final int GEMM_N = 8192;

    public static DeviceCeilings measure(CudaContext ctx) {
        return measure(ctx, COPY_BYTES, GEMM_N);
    }

    /** With other sizes: smaller ones for smoke runs (they under-measure a real GPU). */
    public static DeviceCeilings measure(CudaContext ctx, long copyBytes, int gemmN) {
        return new DeviceCeilings(copyBandwidth(ctx, copyBytes), gemmPeak(ctx, gemmN));
    }

    private static double copyBandwidth(CudaContext ctx, long copyBytes) {
        long src = ctx.driver().memAlloc(copyBytes);
        long dst = ctx.driver().memAlloc(copyBytes);
        try {
            ctx.driver().memsetD32Async(src, 0x3f800000, copyBytes / 4, ctx.stream());
            Timing t = Timing.best(ctx, 3, 10, () -> ctx.driver().memcpyDtoDAsync(dst, src, copyBytes, ctx.stream()));
            return 2.0 * copyBytes / t.secondsPerRep();
        } finally {
            ctx.driver().memFree(src);
            ctx.driver().memFree(dst);
        }
    }

    private static double gemmPeak(CudaContext ctx, int n) {
        long bytes = 2L * n * n;
        long a = ctx.driver().memAlloc(bytes);
        long b = ctx.driver().memAlloc(bytes);
        long c = ctx.driver().memAlloc(2 * bytes);    // f32 output: the layout the backend's GEMMs use
        Cublas cublas = ctx.cublas();
        MemorySegment handle = cublas.create();
        try {
            cublas.setStream(handle, ctx.stream());
            cublas.setWorkspace(handle, ctx.cublasWorkspace(), ctx.cublasWorkspaceBytes());
            // 1.0 in bf16 pairs: the values do not change the speed, NaNs would not either but look alarming
            ctx.driver().memsetD32Async(a, 0x3f803f80, bytes / 4, ctx.stream());
            ctx.driver().memsetD32Async(b, 0x3f803f80, bytes / 4, ctx.stream());
            Timing t = Timing.best(ctx, 3, 10, () -> cublas.gemmEx(handle, Cublas.CUBLAS_OP_N, Cublas.CUBLAS_OP_N,
                    n, n, n, 1f, a, Cublas.CUDA_R_16BF, n, b, Cublas.CUDA_R_16BF, n, 0f,
                    c, Cublas.CUDA_R_32F, n, Cublas.CUBLAS_COMPUTE_32F, Cublas.CUBLAS_GEMM_DEFAULT));
            return 2.0 * n * n * n / t.secondsPerRep();
        } finally {
            cublas.destroy(handle);
            ctx.driver().memFree(a);
            ctx.driver().memFree(b);
            ctx.driver().memFree(c);
        }
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.cublas.Cublas;
import io.latentserve.cuda.kernels.AddParams;
import io.latentserve.cuda.kernels.GemvParams;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.model.backend.MatmulPrecision;

import java.util.Objects;

/**
 * out[T, N] = x[T, K] · w[N, K]ᵀ through cuBLAS, f32 activations against weights as stored.
 *
 * <p>cublasGemmEx needs A and B of one type, and bf16 activations would lose the CPU backend's f32
 * accuracy (about 3 significant digits), so for bf16 weights each activation row is split into two bf16
 * rows, x = hi + lo (ls_split_bf16; the rest is below 2^-17 |x|), one GEMM runs the 2T stacked rows
 * against the weight (bf16 products are exact in f32, accumulation f32), and out = C[:T] + C[T:] (ls_add).
 * The weight is read once, which is what bounds decode. f32 weights go straight to an f32 GEMM.
 *
 * <p>{@link MatmulPrecision#MEDIUM} (--matmul-precision medium) rounds each activation to bf16 instead (the hi
 * rows alone, nearest even) and runs one GEMM of T rows straight into out: half the tensor-core work and no
 * add, about 3 significant digits of each activation kept, as a bf16 model runs in HuggingFace or vLLM. The
 * precision is also what {@link CudaMlaDecompressed}'s GEMM attention and {@link CudaGroupedMoe} read here.
 *
 * <p>Up to {@link KernelLimits#GEMV_MAX_ROWS} rows (decode of a few sequences) against a bf16 weight go to
 * ls_gemv instead, at either precision: one launch rather than three, f32 activations used as they are (more
 * exact than the split), the weight streamed once. -Dlatentserve.cuda.gemv=false keeps every product on cuBLAS.
 */
final class Gemm {
    private static final boolean GEMV = !"false".equals(System.getProperty("latentserve.cuda.gemv"));

    private final CudaContext ctx;
    private final Kernels kernels;
    private final StepMemory memory;
    private MatmulPrecision precision;

    Gemm(CudaContext ctx, Kernels kernels, StepMemory memory, MatmulPrecision precision) {
        this.ctx = ctx;
        this.kernels = kernels;
        this.memory = memory;
        this.precision = Objects.requireNonNull(precision, "precision");
    }

    /** How the tensor-core products treat f32 activations. */
    MatmulPrecision precision() {
        return precision;
    }

    /** From the next product on (benchmarks put both precisions side by side on one backend). */
    void precision(MatmulPrecision p) {
        this.precision = Objects.requireNonNull(p, "precision");
    }

    /** True when f32 operands of tensor-core products are split into bf16 hi + lo, false when only rounded. */
    boolean splits() {
        return precision == MatmulPrecision.HIGH;
    }

    void matmul(CudaActivation x, CudaWeight w, CudaActivation out) {
        matmul(x, w, out, precision);
    }

    /** As {@link #matmul(CudaActivation, CudaWeight, CudaActivation)} at the given precision, whatever is set. */
    void matmul(CudaActivation x, CudaWeight w, CudaActivation out, MatmulPrecision at) {
        int t = x.rows();
        int k = x.cols();
        int n = w.rows();
        if (k != w.cols() || out.cols() != n || out.rows() != t) {
            throw new IllegalArgumentException("matmul shapes: x " + t + "x" + k + ", w " + w.rows() + "x"
                    + w.cols() + ", out " + out.rows() + "x" + out.cols());
        }
        if (t == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            throw new IllegalArgumentException("matmul over an empty inner dimension");
        }
        if (w.dtype() == KernelLimits.DTYPE_F32) {
            rowMajorGemm(t, n, k, x.address(), Cublas.CUDA_R_32F, x.stride(), w.address(), Cublas.CUDA_R_32F,
                    out.address(), out.stride());
            return;
        }
        if (t <= KernelLimits.GEMV_MAX_ROWS && GEMV) {
            kernels.launch(new GemvParams(x.address(), w.address(), out.address(), t, k, n, x.stride(), out.stride()),
                    Grid.of((n + KernelLimits.GEMV_FEATURES - 1) / KernelLimits.GEMV_FEATURES, KernelLimits.THREADS));
            return;
        }
        try (StepMemory.Scratch s = memory.scratch()) {
            if (at == MatmulPrecision.MEDIUM) {
                long hi = kernels.splitBf16(s, x.address(), t, k, x.stride(), false);   // [T, K] bf16
                rowMajorGemm(t, n, k, hi, Cublas.CUDA_R_16BF, k, w.address(), Cublas.CUDA_R_16BF, out.address(),
                        out.stride());
                return;
            }
            long split = kernels.splitBf16(s, x.address(), t, k, x.stride(), true);   // [2T, K] bf16: hi rows then lo rows
            long c = s.floats(2L * t * n);              // [2T, N] f32
            rowMajorGemm(2 * t, n, k, split, Cublas.CUDA_R_16BF, k, w.address(), Cublas.CUDA_R_16BF, c, n);
            kernels.launch(new AddParams(c, c + 4L * t * n, out.address(), t, n, n, n, out.stride()),
                    Kernels.rowsByCols(t, n));
        }
    }

    /**
     * C_i[M,N] = alpha · A_i[M,K] · op(B_i) + beta · C_i for batch bf16 matrices, f32 C, row-major with leading
     * dimensions and strides in elements (op(B) = Bᵀ with B stored [N,K] when transposeB): the tensor-core
     * terms of a hi/lo split product, one matrix per attention head.
     */
    void batchedBf16(boolean transposeB, int m, int n, int k, float alpha, long a, int lda, long strideA,
                     long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch) {
        Cublas cublas = ctx.cublas();
        var handle = ctx.cublasHandle();
        cublasCall(() -> cublas.rowMajorGemmStridedBatched(handle, transposeB, m, n, k, alpha,
                        a, Cublas.CUDA_R_16BF, lda, strideA, b, Cublas.CUDA_R_16BF, ldb, strideB, beta,
                        c, Cublas.CUDA_R_32F, ldc, strideC, batch),
                12, transposeB ? 1 : 0, m, n, k, Float.floatToRawIntBits(alpha), a, lda, strideA, b, ldb, strideB,
                Float.floatToRawIntBits(beta), c, ldc, strideC, batch);
    }

    /** C[M,N] f32 (row stride ldc) = A[M,K] · B[N,K]ᵀ, A and B of the given cuBLAS type. */
    private void rowMajorGemm(int m, int n, int k, long a, int type, int lda, long b, int bType, long c, int ldc) {
        Cublas cublas = ctx.cublas();
        var handle = ctx.cublasHandle();
        cublasCall(() -> cublas.rowMajorGemm(handle, true, m, n, k, 1f, a, type, lda, b, bType, k, 0f,
                c, Cublas.CUDA_R_32F, ldc), 11, m, n, k, a, type, lda, b, bType, c, ldc);
    }

    /**
     * A cuBLAS call on the step's stream: recorded into the pass's graph with its arguments as signature
     * (tag first: 11 GEMM, 12 strided batched; StepMemory's staged uploads and memsets are 1 and 2), or, with
     * -Dlatentserve.cuda.graphCublas=false, ending the recording and issued now. Issued now, it is timed with the
     * kernels when the benchmark asks ({@link KernelTimes}).
     */
    private void cublasCall(Runnable untimed, long... signature) {
        StepGraphs graphs = kernels.graphs();
        String name = signature[0] == 12 ? "cublas strided batched GEMM" : "cublas GEMM";
        Runnable call = graphs.deferring() ? untimed : () -> kernels.times().around(name, untimed);
        if (StepGraphs.CAPTURE_CUBLAS) {
            graphs.issue(call, signature);
        } else {
            graphs.eager();
            call.run();
        }
    }
}

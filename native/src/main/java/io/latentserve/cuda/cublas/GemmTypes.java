package io.latentserve.cuda.cublas;

import static io.latentserve.cuda.cublas.Cublas.CUDA_R_16BF;
import static io.latentserve.cuda.cublas.Cublas.CUDA_R_16F;
import static io.latentserve.cuda.cublas.Cublas.CUDA_R_32F;

/**
 * The A/B/C type combinations cublasGemmEx accepts with CUBLAS_COMPUTE_32F (from the cuBLAS
 * documentation's cublasGemmEx table), checked in Java so a wrong combination fails with a sentence rather
 * than CUBLAS_STATUS_NOT_SUPPORTED from inside a captured graph. Also the shape checks of the row-major
 * helpers.
 */
public final class GemmTypes {
    private GemmTypes() {
    }

    /** Throws IllegalArgumentException unless (a, b, c) is bf16/bf16/{bf16,f32}, f16/f16/{f16,f32} or f32/f32/f32. */
    public static void check(int aType, int bType, int cType) {
        if (!supported(aType, bType, cType)) {
            String msg = "cublasGemmEx with f32 compute does not take A " + name(aType) + ", B " + name(bType)
                    + ", C " + name(cType) + "; supported: bf16·bf16→bf16|f32, f16·f16→f16|f32, f32·f32→f32";
            if (aType != bType) {
                msg += " (both inputs must have one type: cast the activations to the weight's type first)";
            }
            throw new IllegalArgumentException(msg);
        }
    }

    public static boolean supported(int aType, int bType, int cType) {
        if (aType != bType) {
            return false;
        }
        return switch (aType) {
            case CUDA_R_16BF -> cType == CUDA_R_16BF || cType == CUDA_R_32F;
            case CUDA_R_16F -> cType == CUDA_R_16F || cType == CUDA_R_32F;
            case CUDA_R_32F -> cType == CUDA_R_32F;
            default -> false;
        };
    }

    /** Bytes per element of a supported type. */
    public static int elementBytes(int type) {
        return switch (type) {
            case CUDA_R_32F -> 4;
            case CUDA_R_16F, CUDA_R_16BF -> 2;
            default -> throw new IllegalArgumentException("unsupported cudaDataType " + type);
        };
    }

    public static String name(int type) {
        return switch (type) {
            case CUDA_R_32F -> "f32";
            case CUDA_R_16F -> "f16";
            case CUDA_R_16BF -> "bf16";
            default -> "cudaDataType(" + type + ")";
        };
    }

    /** Row-major C[M,N] = A[M,K] · op(B): every size positive, every leading dimension at least its row width. */
    static void checkShape(boolean transposeB, int m, int n, int k, int lda, int ldb, int ldc) {
        if (m < 1 || n < 1 || k < 1) {
            throw new IllegalArgumentException("GEMM sizes must be positive, got M=" + m + " N=" + n + " K=" + k);
        }
        int bRow = transposeB ? k : n;
        if (lda < k || ldb < bRow || ldc < n) {
            throw new IllegalArgumentException("leading dimensions too small for row-major M=" + m + " N=" + n
                    + " K=" + k + (transposeB ? " (B is [N,K])" : " (B is [K,N])") + ": lda=" + lda + " (>= " + k
                    + "), ldb=" + ldb + " (>= " + bRow + "), ldc=" + ldc + " (>= " + n + ")");
        }
    }
}

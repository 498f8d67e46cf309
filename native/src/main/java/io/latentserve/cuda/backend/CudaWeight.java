package io.latentserve.cuda.backend;

import io.latentserve.cuda.cublas.Cublas;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.model.backend.Tensor;

/**
 * A weight resident in the weight arena, [rows, cols] row-major and dense: bf16 as stored, or f32
 * (f32 checkpoints, and f16 ones widened exactly at upload).
 *
 * @param dtype KernelLimits.DTYPE_BF16 or DTYPE_F32
 */
record CudaWeight(long address, int dtype, int rows, int cols) implements Tensor {

    long elementBytes() {
        return dtype == KernelLimits.DTYPE_BF16 ? 2 : 4;
    }

    int cudaType() {
        return dtype == KernelLimits.DTYPE_BF16 ? Cublas.CUDA_R_16BF : Cublas.CUDA_R_32F;
    }

    long byteSize() {
        return elementBytes() * rows * cols;
    }

    static CudaWeight of(Tensor t, String what) {
        if (t instanceof CudaWeight w) {
            return w;
        }
        throw new IllegalArgumentException(what + ": expected a CUDA weight, got "
                + (t == null ? "null" : t.getClass().getSimpleName()));
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.model.checkpoint.DType;
import io.latentserve.model.checkpoint.TensorView;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Uploads checkpoint tensors once into the weight arena: bf16 and f32 as stored (little-endian, so the bytes
 * go as they are), f16 widened exactly to f32 on the way (cuBLAS takes f16 only against f16 activations).
 */
final class CudaWeights {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Rows of f16 widened per host chunk. */
    private static final long CHUNK = 1 << 22;

    private final CudaContext ctx;

    CudaWeights(CudaContext ctx) {
        this.ctx = ctx;
    }

    CudaWeight upload(TensorView view) {
        if (view.rank() > 2 || view.rank() < 1) {
            throw new IllegalArgumentException("weight " + view.name() + " has rank " + view.rank() + "; expected 1 or 2");
        }
        int rows = view.rank() == 1 ? 1 : view.dim(0);
        int cols = view.rank() == 1 ? view.dim(0) : view.dim(1);
        long count = (long) rows * cols;
        DType dtype = view.dtype();
        if (!dtype.isSupportedWeightType()) {
            throw new IllegalArgumentException("weights of type " + dtype + " are not supported (BF16, F16, F32)");
        }
        if (view.data().byteSize() < count * dtype.byteSize()) {
            throw new IllegalArgumentException("weight " + view.name() + " holds " + view.data().byteSize()
                    + " bytes, fewer than its shape needs");
        }
        int code = dtype == DType.BF16 ? KernelLimits.DTYPE_BF16 : KernelLimits.DTYPE_F32;
        long bytes = count * (dtype == DType.BF16 ? 2 : 4);
        long address = ctx.weights().allocate(Math.max(1, bytes));
        if (count > 0) {
            if (dtype == DType.F16) {
                widenF16(view.data(), count, address);
            } else {
                MemorySegment src = view.data().asSlice(0, bytes);
                ctx.driver().memcpyHtoD(address, hostCopyIfNeeded(src), bytes);
            }
        }
        return new CudaWeight(address, code, rows, cols);
    }

    /** cuMemcpy reads native memory only: a heap-backed view is copied off-heap first. */
    private static MemorySegment hostCopyIfNeeded(MemorySegment src) {
        if (src.isNative()) {
            return src;
        }
        MemorySegment copy = Arena.ofAuto().allocate(src.byteSize(), 16);
        copy.copyFrom(src);
        return copy;
    }

    private void widenF16(MemorySegment data, long count, long address) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(ValueLayout.JAVA_FLOAT, Math.min(count, CHUNK));
            for (long from = 0; from < count; from += CHUNK) {
                long n = Math.min(CHUNK, count - from);
                for (long i = 0; i < n; i++) {
                    buf.setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.float16ToFloat(data.getAtIndex(SHORT_LE, from + i)));
                }
                ctx.driver().memcpyHtoD(address + 4 * from, buf, 4 * n);
            }
        }
    }
}

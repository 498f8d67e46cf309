package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.kernels.FillHashedParams;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.model.checkpoint.DType;
import io.latentserve.model.checkpoint.TensorView;
import io.latentserve.model.random.HashFill;

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

    /** Elements per ls_fill_hashed launch (its count is an int) and blocks per launch (grid-stride). */
    private static final long FILL_CHUNK = 1L << 30;
    private static final long FILL_BLOCKS = 4096;

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

    /**
     * A bf16 weight filled in place by ls_fill_hashed with the fill's values (bit-identical to
     * {@link HashFill#bf16}); nothing crosses PCIe, which is what makes a 31 GB random model quick to make.
     */
    CudaWeight hashed(String name, long[] shape, HashFill fill, Kernels kernels) {
        return hashed(name, shape, fill, kernels, FILL_CHUNK);
    }

    /** As above with launches of at most chunk elements (tests use small chunks to check the index base). */
    CudaWeight hashed(String name, long[] shape, HashFill fill, Kernels kernels, long chunk) {
        if (shape.length > 2 || shape.length < 1) {
            throw new IllegalArgumentException("weight " + name + " has rank " + shape.length + "; expected 1 or 2");
        }
        int rows = shape.length == 1 ? 1 : Math.toIntExact(shape[0]);
        int cols = Math.toIntExact(shape[shape.length - 1]);
        long count = (long) rows * cols;
        HashFill.checkCount(count);
        long address = ctx.weights().allocate(Math.max(2, count * 2));
        for (long from = 0; from < count; from += chunk) {
            int n = (int) Math.min(chunk, count - from);
            int blocks = (int) Math.min(FILL_BLOCKS, (n + KernelLimits.THREADS - 1) / KernelLimits.THREADS);
            kernels.launch(new FillHashedParams(address + 2 * from, n, (int) from, fill.seed(), fill.mean(),
                    fill.amplitude(), KernelLimits.DTYPE_BF16), Grid.of(blocks, KernelLimits.THREADS));
        }
        return new CudaWeight(address, KernelLimits.DTYPE_BF16, rows, cols);
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

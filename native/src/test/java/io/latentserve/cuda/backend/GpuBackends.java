package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaBackendProvider;
import io.latentserve.cuda.CudaContext;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.checkpoint.DType;
import io.latentserve.model.checkpoint.TensorView;
import io.latentserve.model.cpu.CpuBackend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The two backends of a GPU test (CUDA on GPU 0 and the CPU reference) and the same inputs for both:
 * weights as TensorViews (bf16, f16 or f32), activations filled through an f32 embedding table, so every
 * value is identical on the two sides. Fails, rather than skips, without a usable GPU: these tests run only
 * where one is expected (cuda-kernels/device-check.sh).
 */
final class GpuBackends implements AutoCloseable {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final CudaBackend cuda;
    final CpuBackend cpu;
    private final Arena arena = Arena.ofShared();

    private GpuBackends(CudaBackend cuda) {
        this.cuda = cuda;
        this.cpu = new CpuBackend();
    }

    /** Opens GPU 0 with arenas large enough for every GPU test (weights, KV cache, activations in GiB). */
    static GpuBackends open(int weightGiB, int kvGiB, int activationGiB) {
        CudaBackendProvider provider = new CudaBackendProvider();
        provider.unavailableReason().ifPresent(why -> fail("the CUDA backend is unavailable: " + why));
        CudaContext ctx = CudaContext.open(0, (long) weightGiB << 30, (long) kvGiB << 30, (long) activationGiB << 30);
        System.out.println("GPU: " + provider.description().orElse("?"));
        return new GpuBackends(CudaBackend.create(ctx));
    }

    Backend backend(boolean gpu) {
        return gpu ? cuda : cpu;
    }

    // ---- random data ----

    static float[] random(SplittableRandom rnd, int n, double amplitude) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((rnd.nextDouble() * 2 - 1) * amplitude);
        }
        return a;
    }

    static float[] gaussian(SplittableRandom rnd, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double u1 = rnd.nextDouble();
            double u2 = rnd.nextDouble();
            a[i] = (float) (std * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        return a;
    }

    // ---- weights ----

    /** A weight [rows, cols] (rows 0 for a 1-D vector) of the values, stored as dtype (rounded to it). */
    TensorView view(String name, DType dtype, int rows, int cols, float[] values) {
        long count = (long) Math.max(rows, 1) * cols;
        MemorySegment seg = arena.allocate(count * dtype.byteSize(), 16);
        for (long i = 0; i < count; i++) {
            float v = values[(int) i];
            switch (dtype) {
                case BF16 -> seg.setAtIndex(SHORT_LE, i, (short) bf16(v));
                case F16 -> seg.setAtIndex(SHORT_LE, i, Float.floatToFloat16(v));
                case F32 -> seg.setAtIndex(FLOAT_LE, i, v);
                default -> throw new IllegalArgumentException(dtype.toString());
            }
        }
        long[] shape = rows == 0 ? new long[]{cols} : new long[]{rows, cols};
        return new TensorView(name, dtype, shape, seg, Path.of("test"));
    }

    /** The same weight on both backends: [0] CUDA, [1] CPU. */
    Tensor[] weight(DType dtype, int rows, int cols, float[] values) {
        TensorView v = view("w", dtype, rows, cols, values);
        return new Tensor[]{cuda.weight(v), cpu.weight(v)};
    }

    /** bf16 round to nearest even. */
    static int bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16 & 0xFFFF;
    }

    static float roundBf16(float v) {
        return Float.intBitsToFloat(bf16(v) << 16);
    }

    // ---- activations ----

    /** Writes values [rows, cols] into out (a fresh activation or a view) exactly, on either backend. */
    void fill(Backend b, Tensor out, float[] values) {
        int rows = out.rows();
        int cols = out.cols();
        if (rows == 0 || cols == 0) {
            return;
        }
        Tensor table = b.weight(view("fill", DType.F32, rows, cols, values));
        int[] ids = new int[rows];
        for (int i = 0; i < rows; i++) {
            ids[i] = i;
        }
        b.embedding(table, ids, out);
    }

    /** A fresh activation [rows, cols] holding the values, on either backend. */
    Tensor input(Backend b, int rows, int cols, float[] values) {
        Tensor t = b.activation(rows, cols);
        fill(b, t, values);
        return t;
    }

    @Override
    public void close() {
        try {
            cuda.close();
        } finally {
            cpu.close();
            arena.close();
        }
    }
}

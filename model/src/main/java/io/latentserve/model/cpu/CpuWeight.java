package io.latentserve.model.cpu;

import io.latentserve.model.backend.Tensor;
import io.latentserve.model.checkpoint.DType;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A weight kept exactly as stored (BF16, F16 or F32, little-endian, usually memory-mapped), rows x cols,
 * widened to f32 on the fly. BF16 rows are read as pairs packed in ints: the low half is the even
 * element, the high half the odd one (BENCHMARKS.md: this doubles the Vector API's throughput).
 */
record CpuWeight(MemorySegment data, DType dtype, int rows, int cols) implements Tensor {

    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    CpuWeight {
        if (!dtype.isSupportedWeightType()) {
            throw new IllegalArgumentException("weights of type " + dtype + " are not supported (BF16, F16, F32)");
        }
    }

    long rowByteOffset(int row) {
        return (long) row * cols * dtype.byteSize();
    }

    float get(int row, int col) {
        long i = (long) row * cols + col;
        return switch (dtype) {
            case BF16 -> Float.intBitsToFloat(data.getAtIndex(SHORT_LE, i) << 16);
            case F16 -> Float.float16ToFloat(data.getAtIndex(SHORT_LE, i));
            case F32 -> data.getAtIndex(FLOAT_LE, i);
            default -> throw new IllegalStateException(dtype.toString());
        };
    }

    /** Widens row r into dst[dstOffset ..]. */
    void copyRow(int row, float[] dst, int dstOffset) {
        for (int c = 0; c < cols; c++) {
            dst[dstOffset + c] = get(row, c);
        }
    }

    /** dot(row r, x[xOffset .. xOffset + cols)) in f32. */
    float dotRow(int row, float[] x, int xOffset) {
        if (dtype == DType.BF16) {
            return dotRowBf16(row, x, xOffset);
        }
        float sum = 0;
        for (int c = 0; c < cols; c++) {
            sum += get(row, c) * x[xOffset + c];
        }
        return sum;
    }

    private float dotRowBf16(int row, float[] x, int xOffset) {
        var fs = VectorKernels.F;
        int lanes = fs.length();
        long base = rowByteOffset(row);
        FloatVector acc = FloatVector.zero(fs);
        int c = 0;
        for (; c + lanes <= cols; c += lanes) {
            FloatVector w = VectorKernels.loadBf16(data, base + 2L * c);
            acc = w.fma(FloatVector.fromArray(fs, x, xOffset + c), acc);
        }
        float sum = VectorKernels.sum(acc);
        for (; c < cols; c++) {
            sum += get(row, c) * x[xOffset + c];
        }
        return sum;
    }

    /** y[yOffset ..] += alpha · row r. */
    void axpyRow(int row, float alpha, float[] y, int yOffset) {
        var fs = VectorKernels.F;
        int lanes = fs.length();
        int c = 0;
        if (dtype == DType.BF16) {
            long base = rowByteOffset(row);
            FloatVector a = FloatVector.broadcast(fs, alpha);
            for (; c + lanes <= cols; c += lanes) {
                FloatVector w = VectorKernels.loadBf16(data, base + 2L * c);
                w.fma(a, FloatVector.fromArray(fs, y, yOffset + c)).intoArray(y, yOffset + c);
            }
        }
        for (; c < cols; c++) {
            y[yOffset + c] += alpha * get(row, c);
        }
    }

    static CpuWeight of(Tensor t) {
        if (t instanceof CpuWeight w) {
            return w;
        }
        throw new IllegalArgumentException("expected a CPU weight, got " + t.getClass().getSimpleName());
    }
}

package io.latentserve.model.cpu;

import io.latentserve.model.backend.Tensor;

/**
 * An f32 activation on the Java heap: element (r, c) is data[offset + r·stride + c].
 * Column and row views share the array, so a fused projection can be split without copies.
 */
record CpuActivation(float[] data, int offset, int rows, int cols, int stride) implements Tensor {

    static CpuActivation allocate(int rows, int cols) {
        return new CpuActivation(new float[Math.multiplyExact(rows, cols)], 0, rows, cols, cols);
    }

    int index(int row, int col) {
        return offset + row * stride + col;
    }

    float get(int row, int col) {
        return data[index(row, col)];
    }

    CpuActivation columns(int colOffset, int width) {
        if (colOffset < 0 || width < 0 || colOffset + width > cols) {
            throw new IllegalArgumentException("columns [" + colOffset + ", " + (colOffset + width) + ") outside " + cols);
        }
        return new CpuActivation(data, offset + colOffset, rows, width, stride);
    }

    CpuActivation rowRange(int rowOffset, int count) {
        if (rowOffset < 0 || count < 0 || rowOffset + count > rows) {
            throw new IllegalArgumentException("rows [" + rowOffset + ", " + (rowOffset + count) + ") outside " + rows);
        }
        return new CpuActivation(data, offset + rowOffset * stride, count, cols, stride);
    }

    /** Row r as a fresh contiguous array. */
    float[] copyRow(int row) {
        float[] out = new float[cols];
        System.arraycopy(data, index(row, 0), out, 0, cols);
        return out;
    }

    float[] toArray() {
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(data, index(r, 0), out, r * cols, cols);
        }
        return out;
    }

    static CpuActivation of(Tensor t) {
        if (t instanceof CpuActivation a) {
            return a;
        }
        throw new IllegalArgumentException("expected a CPU activation, got " + t.getClass().getSimpleName());
    }
}

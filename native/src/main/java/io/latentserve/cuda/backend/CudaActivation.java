package io.latentserve.cuda.backend;

import io.latentserve.model.backend.Tensor;

/**
 * An f32 activation in the activation arena: element (r, c) is at address + 4·(r·stride + c). Column and
 * row views share the storage. {@code step} is the arena generation it was allocated in: the arena is
 * reset between steps, and an activation of an earlier step is refused on use (never silently read).
 */
record CudaActivation(long address, int rows, int cols, int stride, long step) implements Tensor {

    long at(int row, int col) {
        return address + 4L * ((long) row * stride + col);
    }

    boolean contiguous() {
        return stride == cols || rows <= 1;
    }

    CudaActivation columns(int offset, int width) {
        if (offset < 0 || width < 0 || offset + width > cols) {
            throw new IllegalArgumentException("columns [" + offset + ", " + (offset + width) + ") outside " + cols);
        }
        return new CudaActivation(address + 4L * offset, rows, width, stride, step);
    }

    CudaActivation rowRange(int offset, int count) {
        if (offset < 0 || count < 0 || offset + count > rows) {
            throw new IllegalArgumentException("rows [" + offset + ", " + (offset + count) + ") outside " + rows);
        }
        return new CudaActivation(address + 4L * offset * stride, count, cols, stride, step);
    }

    static CudaActivation of(Tensor t, String what) {
        if (t instanceof CudaActivation a) {
            return a;
        }
        throw new IllegalArgumentException(what + ": expected a CUDA activation, got "
                + (t == null ? "null" : t.getClass().getSimpleName()));
    }
}

package io.latentserve.model.checkpoint;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a checkpoint as stored: a read-only slice of a memory-mapped file, row-major,
 * little-endian, never copied to the heap.
 *
 * @param file the file it lives in, for error messages
 */
public record TensorView(String name, DType dtype, long[] shape, MemorySegment data, Path file) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension i, checked to fit an int (every model dimension does). */
    public int dim(int i) {
        return Math.toIntExact(shape[i]);
    }

    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /** Throws a CheckpointException naming file and tensor unless the shape is as expected. */
    public TensorView requireShape(long... expected) {
        if (!hasShape(expected)) {
            throw new CheckpointException("tensor " + name + " in " + file + " has shape " + Arrays.toString(shape)
                    + " but the model config requires " + Arrays.toString(expected));
        }
        return this;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}

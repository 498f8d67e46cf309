package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_fill_hashed (LsFillHashedParams in latentserve_params.h): count elements of a
 * {@link io.latentserve.model.random.HashFill} tensor, from element indexBase (unsigned), written at dst.
 */
public record FillHashedParams(
        long dst,
        int count,
        int indexBase,
        int seed,
        float mean,
        float amplitude,
        int dtype) implements KernelParams {

    public static final String KERNEL = "ls_fill_hashed";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("dst"),
            JAVA_INT.withName("count"),
            JAVA_INT.withName("indexBase"),
            JAVA_INT.withName("seed"),
            JAVA_FLOAT.withName("mean"),
            JAVA_FLOAT.withName("amplitude"),
            JAVA_INT.withName("dtype")).withName("LsFillHashedParams");

    @Override
    public String kernel() {
        return KERNEL;
    }

    @Override
    public StructLayout layout() {
        return LAYOUT;
    }

    @Override
    public MemorySegment write(Arena arena) {
        return StructWriter.of(arena, LAYOUT)
                .ptr(dst)
                .i32(count)
                .i32(indexBase)
                .i32(seed)
                .f32(mean)
                .f32(amplitude)
                .i32(dtype)
                .done();
    }
}

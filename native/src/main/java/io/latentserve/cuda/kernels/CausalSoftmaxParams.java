package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_causal_softmax (LsCausalSoftmaxParams in latentserve_params.h): scores [rows, cols] in
 * place, row i = query i % queries, which sees keys up to firstPosition + (i % queries).
 */
public record CausalSoftmaxParams(
        long scores,
        int rows,
        int queries,
        int cols,
        int firstPosition,
        float scale) implements KernelParams {

    public static final String KERNEL = "ls_causal_softmax";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("scores"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("queries"),
            JAVA_INT.withName("cols"),
            JAVA_INT.withName("firstPosition"),
            JAVA_FLOAT.withName("scale"),
            JAVA_INT.withName("pad0")).withName("LsCausalSoftmaxParams");

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
                .ptr(scores)
                .i32(rows)
                .i32(queries)
                .i32(cols)
                .i32(firstPosition)
                .f32(scale)
                .done();
    }
}

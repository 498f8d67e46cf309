package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_add (LsAddParams in latentserve_params.h).
 * Out = a + b element-wise over [rows, cols] (out may alias a or b).
 */
public record AddParams(
        long a,
        long b,
        long out,
        int rows,
        int cols,
        int aStride,
        int bStride,
        int outStride) implements KernelParams {

    public static final String KERNEL = "ls_add";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("a"),
            JAVA_LONG.withName("b"),
            JAVA_LONG.withName("out"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("cols"),
            JAVA_INT.withName("aStride"),
            JAVA_INT.withName("bStride"),
            JAVA_INT.withName("outStride"),
            JAVA_INT.withName("pad0")).withName("LsAddParams");

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
                .ptr(a)
                .ptr(b)
                .ptr(out)
                .i32(rows)
                .i32(cols)
                .i32(aStride)
                .i32(bStride)
                .i32(outStride)
                .done();
    }
}

package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_gemv (LsGemvParams in latentserve_params.h): out[t, n] = x[t, :] · w[n, :] for at most
 * {@link KernelLimits#GEMV_MAX_ROWS} rows of f32 x against a bf16 weight.
 */
public record GemvParams(
        long x,
        long w,
        long out,
        int rows,
        int k,
        int n,
        int xStride,
        int outStride) implements KernelParams {

    public static final String KERNEL = "ls_gemv";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("x"),
            JAVA_LONG.withName("w"),
            JAVA_LONG.withName("out"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("k"),
            JAVA_INT.withName("n"),
            JAVA_INT.withName("xStride"),
            JAVA_INT.withName("outStride"),
            JAVA_INT.withName("pad0")).withName("LsGemvParams");

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
                .ptr(x)
                .ptr(w)
                .ptr(out)
                .i32(rows)
                .i32(k)
                .i32(n)
                .i32(xStride)
                .i32(outStride)
                .done();
    }
}

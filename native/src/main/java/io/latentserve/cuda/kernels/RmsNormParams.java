package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_rmsnorm (LsRmsNormParams in latentserve_params.h).
 * Per row, optionally x += residual first (written back to x: the fused residual add), then out = x *
 * rsqrt(mean(x^2) + eps) * weight in f32, as the CPU backend computes it.
 *
 * @param x [rows, cols] f32, stride xStride
 * @param residual [rows, cols] f32, stride residualStride, or 0 for a plain RMSNorm
 * @param weight [cols] bf16 or f32
 * @param out [rows, cols] f32, stride outStride
 */
public record RmsNormParams(
        long x,
        long residual,
        long weight,
        long out,
        int rows,
        int cols,
        int xStride,
        int residualStride,
        int outStride,
        int weightDtype,
        float eps) implements KernelParams {

    public static final String KERNEL = "ls_rmsnorm";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("x"),
            JAVA_LONG.withName("residual"),
            JAVA_LONG.withName("weight"),
            JAVA_LONG.withName("out"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("cols"),
            JAVA_INT.withName("xStride"),
            JAVA_INT.withName("residualStride"),
            JAVA_INT.withName("outStride"),
            JAVA_INT.withName("weightDtype"),
            JAVA_FLOAT.withName("eps"),
            JAVA_INT.withName("pad0")).withName("LsRmsNormParams");

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
                .ptr(residual)
                .ptr(weight)
                .ptr(out)
                .i32(rows)
                .i32(cols)
                .i32(xStride)
                .i32(residualStride)
                .i32(outStride)
                .i32(weightDtype)
                .f32(eps)
                .done();
    }
}

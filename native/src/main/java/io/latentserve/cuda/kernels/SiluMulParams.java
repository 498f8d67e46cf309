package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_silu_mul (LsSiluMulParams in latentserve_params.h).
 * Out = silu(gate) * up, silu(z) = z / (1 + exp(-z)) (out may alias gate or up).
 */
public record SiluMulParams(
        long gate,
        long up,
        long out,
        int rows,
        int cols,
        int gateStride,
        int upStride,
        int outStride) implements KernelParams {

    public static final String KERNEL = "ls_silu_mul";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("gate"),
            JAVA_LONG.withName("up"),
            JAVA_LONG.withName("out"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("cols"),
            JAVA_INT.withName("gateStride"),
            JAVA_INT.withName("upStride"),
            JAVA_INT.withName("outStride"),
            JAVA_INT.withName("pad0")).withName("LsSiluMulParams");

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
                .ptr(gate)
                .ptr(up)
                .ptr(out)
                .i32(rows)
                .i32(cols)
                .i32(gateStride)
                .i32(upStride)
                .i32(outStride)
                .done();
    }
}

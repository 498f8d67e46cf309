package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_moe_gate_up (LsMoeGateUpParams in latentserve_params.h).
 * h[r, :] = silu(gate_e x[rowToken[r]]) * (up_e x[rowToken[r]]) for the gathered rows r of each expert e;
 * each block reads its slice of a touched expert's weights once, blocks of untouched experts exit at once.
 *
 * @param x [T, hidden] f32, stride xStride
 * @param gateTable [numExperts] device addresses of gate_proj [inter, hidden]
 * @param upTable [numExperts] device addresses of up_proj [inter, hidden]
 * @param offsets [numExperts + 1] int32 (ls_moe_sort)
 * @param rowToken [pairs] int32 (ls_moe_sort)
 * @param h [pairs, inter] f32 out, stride hStride
 * @param weightDtype KernelLimits.DTYPE_* of every gate and up weight
 */
public record MoeGateUpParams(
        long x,
        long gateTable,
        long upTable,
        long offsets,
        long rowToken,
        long h,
        int numExperts,
        int hidden,
        int inter,
        int xStride,
        int hStride,
        int weightDtype) implements KernelParams {

    public static final String KERNEL = "ls_moe_gate_up";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("x"),
            JAVA_LONG.withName("gateTable"),
            JAVA_LONG.withName("upTable"),
            JAVA_LONG.withName("offsets"),
            JAVA_LONG.withName("rowToken"),
            JAVA_LONG.withName("h"),
            JAVA_INT.withName("numExperts"),
            JAVA_INT.withName("hidden"),
            JAVA_INT.withName("inter"),
            JAVA_INT.withName("xStride"),
            JAVA_INT.withName("hStride"),
            JAVA_INT.withName("weightDtype")).withName("LsMoeGateUpParams");

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
                .ptr(gateTable)
                .ptr(upTable)
                .ptr(offsets)
                .ptr(rowToken)
                .ptr(h)
                .i32(numExperts)
                .i32(hidden)
                .i32(inter)
                .i32(xStride)
                .i32(hStride)
                .i32(weightDtype)
                .done();
    }
}

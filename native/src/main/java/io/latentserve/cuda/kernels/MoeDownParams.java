package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_moe_down (LsMoeDownParams in latentserve_params.h).
 * y[r, :] = down_e h[r, :] for the gathered rows r of each expert e; each block reads its slice of a touched
 * expert's down_proj once, blocks of untouched experts exit at once.
 *
 * @param h [pairs, inter] f32, stride hStride
 * @param downTable [numExperts] device addresses of down_proj [hidden, inter]
 * @param downStrides [numExperts] int32 row stride (values) of each down_proj: inter, or S·inter for a column slice
 *        of the shared experts' [hidden, S·inter] down_proj
 * @param offsets [numExperts + 1] int32 (ls_moe_sort)
 * @param y [pairs, hidden] f32 out, stride yStride
 * @param weightDtype KernelLimits.DTYPE_* of every down weight
 */
public record MoeDownParams(
        long h,
        long downTable,
        long downStrides,
        long offsets,
        long y,
        int numExperts,
        int hidden,
        int inter,
        int hStride,
        int yStride,
        int weightDtype) implements KernelParams {

    public static final String KERNEL = "ls_moe_down";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("h"),
            JAVA_LONG.withName("downTable"),
            JAVA_LONG.withName("downStrides"),
            JAVA_LONG.withName("offsets"),
            JAVA_LONG.withName("y"),
            JAVA_INT.withName("numExperts"),
            JAVA_INT.withName("hidden"),
            JAVA_INT.withName("inter"),
            JAVA_INT.withName("hStride"),
            JAVA_INT.withName("yStride"),
            JAVA_INT.withName("weightDtype")).withName("LsMoeDownParams");

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
                .ptr(h)
                .ptr(downTable)
                .ptr(downStrides)
                .ptr(offsets)
                .ptr(y)
                .i32(numExperts)
                .i32(hidden)
                .i32(inter)
                .i32(hStride)
                .i32(yStride)
                .i32(weightDtype)
                .done();
    }
}

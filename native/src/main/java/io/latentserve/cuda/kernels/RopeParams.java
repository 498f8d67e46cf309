package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_rope (LsRopeParams in latentserve_params.h).
 * Rotates in place, for each row t and head h, the 2*half dims starting at column h*headStride +
 * ropeOffset by the angle of position positions[t]: (a, b) -&gt; (a*cos - b*sin, a*sin + b*cos).
 *
 * @param x [rows, stride] f32
 * @param positions [rows] int32
 * @param cosTable [tableRows, half] f32
 * @param sinTable [tableRows, half] f32
 * @param style LS_ROPE_*
 */
public record RopeParams(
        long x,
        long positions,
        long cosTable,
        long sinTable,
        int rows,
        int stride,
        int numHeads,
        int headStride,
        int ropeOffset,
        int half,
        int style,
        int tableRows) implements KernelParams {

    public static final String KERNEL = "ls_rope";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("x"),
            JAVA_LONG.withName("positions"),
            JAVA_LONG.withName("cosTable"),
            JAVA_LONG.withName("sinTable"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("stride"),
            JAVA_INT.withName("numHeads"),
            JAVA_INT.withName("headStride"),
            JAVA_INT.withName("ropeOffset"),
            JAVA_INT.withName("half"),
            JAVA_INT.withName("style"),
            JAVA_INT.withName("tableRows")).withName("LsRopeParams");

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
                .ptr(positions)
                .ptr(cosTable)
                .ptr(sinTable)
                .i32(rows)
                .i32(stride)
                .i32(numHeads)
                .i32(headStride)
                .i32(ropeOffset)
                .i32(half)
                .i32(style)
                .i32(tableRows)
                .done();
    }
}

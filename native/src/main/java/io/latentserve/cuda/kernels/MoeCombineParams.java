package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_moe_combine (LsMoeCombineParams in latentserve_params.h).
 * Out[t, :] += sum_k weight[t*topK + k] * y[row[t*topK + k], :], the k in the order given (the backend
 * lists each token's experts in ascending expert id, as the CPU backend adds them).
 *
 * @param y [pairs, cols] f32, dense
 * @param pairRows [rows, topK] int32: row of y
 * @param pairWeights [rows, topK] f32
 * @param out [rows, cols] f32, stride outStride
 */
public record MoeCombineParams(
        long y,
        long pairRows,
        long pairWeights,
        long out,
        int rows,
        int cols,
        int topK,
        int outStride) implements KernelParams {

    public static final String KERNEL = "ls_moe_combine";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("y"),
            JAVA_LONG.withName("pairRows"),
            JAVA_LONG.withName("pairWeights"),
            JAVA_LONG.withName("out"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("cols"),
            JAVA_INT.withName("topK"),
            JAVA_INT.withName("outStride")).withName("LsMoeCombineParams");

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
                .ptr(y)
                .ptr(pairRows)
                .ptr(pairWeights)
                .ptr(out)
                .i32(rows)
                .i32(cols)
                .i32(topK)
                .i32(outStride)
                .done();
    }
}

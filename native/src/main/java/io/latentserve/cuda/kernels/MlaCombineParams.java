package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_mla_combine (LsMlaCombineParams in latentserve_params.h): the log-sum-exp merge of the
 * splits of every row with more than one (rows of one split were written by ls_mla_decode).
 *
 * @param partialAcc [numWork, numHeads, r] f32
 * @param partialMl [numWork, numHeads, 2] f32
 * @param splitBase [rows + 1] int32
 * @param out [rows, ...] f32
 */
public record MlaCombineParams(
        long partialAcc,
        long partialMl,
        long splitBase,
        long out,
        int rows,
        int numHeads,
        int r,
        int outStride,
        int outHeadStride) implements KernelParams {

    public static final String KERNEL = "ls_mla_combine";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("partialAcc"),
            JAVA_LONG.withName("partialMl"),
            JAVA_LONG.withName("splitBase"),
            JAVA_LONG.withName("out"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("numHeads"),
            JAVA_INT.withName("r"),
            JAVA_INT.withName("outStride"),
            JAVA_INT.withName("outHeadStride"),
            JAVA_INT.withName("pad0")).withName("LsMlaCombineParams");

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
                .ptr(partialAcc)
                .ptr(partialMl)
                .ptr(splitBase)
                .ptr(out)
                .i32(rows)
                .i32(numHeads)
                .i32(r)
                .i32(outStride)
                .i32(outHeadStride)
                .done();
    }
}

package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_mla_decode_tc (LsMlaDecodeTcParams in latentserve_params.h): {@link MlaDecodeParams}'s
 * absorbed MLA decode on tensor cores over a bf16 latent cache, the same fields, work items, outputs and
 * {@code MlaDecodePlan}; one block per (work item, group of {@link KernelLimits#MLA_TC_HEADS} heads). Which
 * shapes it takes, its grid and shared memory: {@code MlaDecodeTc}. The same struct, grid and shared memory
 * launch ls_mla_decode_tma, the bulk-copy variant (compute capability 9.0 and up), when bulkCopy is set.
 *
 * @param q [rows, ...] f32: row w, head h at q + w*qStride + h*qHeadStride, [r | dr]
 * @param cache latent cache rows of one layer, bf16, stride cacheStride (elements)
 * @param blockTables [numSeqs, maxBlocks] int32
 * @param work [numWork, 4] int32: row, seq, start, end (key positions [start, end))
 * @param splitBase [rows + 1] int32: the work items of row w are splitBase[w] .. splitBase[w+1]-1
 * @param partialAcc [numWork, numHeads, r] f32
 * @param partialMl [numWork, numHeads, 2] f32
 * @param out [rows, ...] f32
 * @param bulkCopy launch ls_mla_decode_tma (tiles filled by the bulk copy engine) instead of ls_mla_decode_tc;
 *                 which kernel, not a struct field
 */
public record MlaDecodeTcParams(
        long q,
        long cache,
        long blockTables,
        long work,
        long splitBase,
        long partialAcc,
        long partialMl,
        long out,
        int numWork,
        int numHeads,
        int r,
        int dr,
        int qStride,
        int qHeadStride,
        int cacheStride,
        int blockSize,
        int maxBlocks,
        int outStride,
        int outHeadStride,
        float scale,
        boolean bulkCopy) implements KernelParams {

    public static final String KERNEL = "ls_mla_decode_tc";
    /** The bulk-copy variant: same parameters, sm_90 (its sm_80 code traps). */
    public static final String BULK_KERNEL = "ls_mla_decode_tma";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("q"),
            JAVA_LONG.withName("cache"),
            JAVA_LONG.withName("blockTables"),
            JAVA_LONG.withName("work"),
            JAVA_LONG.withName("splitBase"),
            JAVA_LONG.withName("partialAcc"),
            JAVA_LONG.withName("partialMl"),
            JAVA_LONG.withName("out"),
            JAVA_INT.withName("numWork"),
            JAVA_INT.withName("numHeads"),
            JAVA_INT.withName("r"),
            JAVA_INT.withName("dr"),
            JAVA_INT.withName("qStride"),
            JAVA_INT.withName("qHeadStride"),
            JAVA_INT.withName("cacheStride"),
            JAVA_INT.withName("blockSize"),
            JAVA_INT.withName("maxBlocks"),
            JAVA_INT.withName("outStride"),
            JAVA_INT.withName("outHeadStride"),
            JAVA_FLOAT.withName("scale")).withName("LsMlaDecodeTcParams");

    @Override
    public String kernel() {
        return bulkCopy ? BULK_KERNEL : KERNEL;
    }

    @Override
    public StructLayout layout() {
        return LAYOUT;
    }

    @Override
    public MemorySegment write(Arena arena) {
        return StructWriter.of(arena, LAYOUT)
                .ptr(q)
                .ptr(cache)
                .ptr(blockTables)
                .ptr(work)
                .ptr(splitBase)
                .ptr(partialAcc)
                .ptr(partialMl)
                .ptr(out)
                .i32(numWork)
                .i32(numHeads)
                .i32(r)
                .i32(dr)
                .i32(qStride)
                .i32(qHeadStride)
                .i32(cacheStride)
                .i32(blockSize)
                .i32(maxBlocks)
                .i32(outStride)
                .i32(outHeadStride)
                .f32(scale)
                .done();
    }
}

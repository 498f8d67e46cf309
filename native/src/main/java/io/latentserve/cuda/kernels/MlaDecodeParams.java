package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_mla_decode (LsMlaDecodeParams in latentserve_params.h): absorbed MLA decode over the
 * paged latent cache, one block per (work item = chunk of one query row's keys, group of heads).
 *
 * @param q [rows, ...] f32: row w, head h at q + w*qStride + h*qHeadStride, [r | dr]
 * @param cache latent cache rows of one layer, f32 or bf16 (cacheDtype), stride cacheStride elements
 * @param blockTables [numSeqs, maxBlocks] int32
 * @param work [numWork, 4] int32: row, seq, start, end (key positions [start, end))
 * @param splitBase [rows + 1] int32: the work items of row w are splitBase[w] .. splitBase[w+1]-1
 * @param partialAcc [numWork, numHeads, r] f32
 * @param partialMl [numWork, numHeads, 2] f32
 * @param out [rows, ...] f32
 * @param cacheDtype KernelLimits.DTYPE_F32 or DTYPE_BF16
 */
public record MlaDecodeParams(
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
        int cacheDtype) implements KernelParams {

    public static final String KERNEL = "ls_mla_decode";

    /** Over an f32 cache. */
    public MlaDecodeParams(long q, long cache, long blockTables, long work, long splitBase, long partialAcc,
                           long partialMl, long out, int numWork, int numHeads, int r, int dr, int qStride,
                           int qHeadStride, int cacheStride, int blockSize, int maxBlocks, int outStride,
                           int outHeadStride, float scale) {
        this(q, cache, blockTables, work, splitBase, partialAcc, partialMl, out, numWork, numHeads, r, dr, qStride,
                qHeadStride, cacheStride, blockSize, maxBlocks, outStride, outHeadStride, scale, KernelLimits.DTYPE_F32);
    }

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
            JAVA_FLOAT.withName("scale"),
            JAVA_INT.withName("cacheDtype"),
            JAVA_INT.withName("pad0")).withName("LsMlaDecodeParams");

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
                .i32(cacheDtype)
                .done();
    }
}

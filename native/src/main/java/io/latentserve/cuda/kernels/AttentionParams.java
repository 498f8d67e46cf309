package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_attention (LsAttentionParams in latentserve_params.h).
 * Causal softmax attention of one (work item, head) per block, over key positions 0..positions[w] of
 * the work item's sequence, with an online (flash-style) softmax in f32.
 *
 * @param k2 0 when d2 == 0
 * @param tokenRows [numWork] int32 or 0
 * @param positions [numWork] int32: last visible key position
 * @param seqOf [numWork] int32
 * @param blockTables [numSeqs, maxBlocks] int32, or 0 for contiguous keys
 * @param ctxBase [numSeqs] int32 (contiguous keys), or 0
 */
public record AttentionParams(
        long q,
        long k1,
        long k2,
        long v,
        long out,
        long tokenRows,
        long positions,
        long seqOf,
        long blockTables,
        long ctxBase,
        int numWork,
        int numHeads,
        int groupSize,
        int d1,
        int d2,
        int dv,
        int qStride,
        int qHeadStride,
        int k1Stride,
        int k1HeadStride,
        int k2Stride,
        int k2HeadStride,
        int vStride,
        int vHeadStride,
        int outStride,
        int outHeadStride,
        int blockSize,
        int maxBlocks,
        float scale,
        int kvDtype) implements KernelParams {

    public static final String KERNEL = "ls_attention";

    /** Keys and values in f32 (KernelLimits.DTYPE_F32): every launch that reads no bf16 cache. */
    public AttentionParams(long q, long k1, long k2, long v, long out, long tokenRows, long positions, long seqOf,
                           long blockTables, long ctxBase, int numWork, int numHeads, int groupSize, int d1, int d2,
                           int dv, int qStride, int qHeadStride, int k1Stride, int k1HeadStride, int k2Stride,
                           int k2HeadStride, int vStride, int vHeadStride, int outStride, int outHeadStride,
                           int blockSize, int maxBlocks, float scale) {
        this(q, k1, k2, v, out, tokenRows, positions, seqOf, blockTables, ctxBase, numWork, numHeads, groupSize, d1, d2,
                dv, qStride, qHeadStride, k1Stride, k1HeadStride, k2Stride, k2HeadStride, vStride, vHeadStride,
                outStride, outHeadStride, blockSize, maxBlocks, scale, KernelLimits.DTYPE_F32);
    }

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("q"),
            JAVA_LONG.withName("k1"),
            JAVA_LONG.withName("k2"),
            JAVA_LONG.withName("v"),
            JAVA_LONG.withName("out"),
            JAVA_LONG.withName("tokenRows"),
            JAVA_LONG.withName("positions"),
            JAVA_LONG.withName("seqOf"),
            JAVA_LONG.withName("blockTables"),
            JAVA_LONG.withName("ctxBase"),
            JAVA_INT.withName("numWork"),
            JAVA_INT.withName("numHeads"),
            JAVA_INT.withName("groupSize"),
            JAVA_INT.withName("d1"),
            JAVA_INT.withName("d2"),
            JAVA_INT.withName("dv"),
            JAVA_INT.withName("qStride"),
            JAVA_INT.withName("qHeadStride"),
            JAVA_INT.withName("k1Stride"),
            JAVA_INT.withName("k1HeadStride"),
            JAVA_INT.withName("k2Stride"),
            JAVA_INT.withName("k2HeadStride"),
            JAVA_INT.withName("vStride"),
            JAVA_INT.withName("vHeadStride"),
            JAVA_INT.withName("outStride"),
            JAVA_INT.withName("outHeadStride"),
            JAVA_INT.withName("blockSize"),
            JAVA_INT.withName("maxBlocks"),
            JAVA_FLOAT.withName("scale"),
            JAVA_INT.withName("kvDtype")).withName("LsAttentionParams");

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
                .ptr(k1)
                .ptr(k2)
                .ptr(v)
                .ptr(out)
                .ptr(tokenRows)
                .ptr(positions)
                .ptr(seqOf)
                .ptr(blockTables)
                .ptr(ctxBase)
                .i32(numWork)
                .i32(numHeads)
                .i32(groupSize)
                .i32(d1)
                .i32(d2)
                .i32(dv)
                .i32(qStride)
                .i32(qHeadStride)
                .i32(k1Stride)
                .i32(k1HeadStride)
                .i32(k2Stride)
                .i32(k2HeadStride)
                .i32(vStride)
                .i32(vHeadStride)
                .i32(outStride)
                .i32(outHeadStride)
                .i32(blockSize)
                .i32(maxBlocks)
                .f32(scale)
                .i32(kvDtype)
                .done();
    }
}

package io.latentserve.cuda.bench;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.backend.MlaDecodePlan;
import io.latentserve.cuda.backend.MlaDecodeTc;
import io.latentserve.cuda.driver.CudaDriver;
import io.latentserve.cuda.kernels.AttentionParams;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.KernelModule;
import io.latentserve.cuda.kernels.MlaCombineParams;
import io.latentserve.cuda.kernels.MlaDecodeParams;
import io.latentserve.cuda.kernels.MlaDecodeTcParams;
import io.latentserve.model.backend.KvCacheDtype;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Kernel-level timing of absorbed MLA decode attention at DeepSeek-V2-Lite shapes (16 heads, latent 512 +
 * rope 64, block size 64), over an f32 and a bf16 cache: ls_mla_decode + ls_mla_combine as CudaMlaAbsorbed plans
 * them, the older ls_attention path on the same data for comparison, and over the bf16 cache also
 * ls_mla_decode_tc + ls_mla_combine (same plan) and, on compute capability 9.0 and up, its bulk-copy variant
 * ls_mla_decode_tma (same plan, same launch). Device memory comes straight from the driver
 * (not the backend's arenas) and is freed afterwards; the cache holds one constant value (the kernels'
 * speed does not depend on it). Not wired to the CLI.
 */
public final class MlaDecodeBench {
    static final int HEADS = 16;
    static final int R = KernelLimits.MLA_LATENT;
    static final int DR = KernelLimits.MLA_ROPE;
    static final int BLOCK = 64;
    static final float SCALE = 0.1147214f;

    /**
     * One shape's result over a cache of dtype. bytesRead = the latent cache the batch sees (at the dtype's
     * element size) plus the absorbed f32 queries; gbPerSecond = bytesRead / decodeMillis; tcMillis is
     * ls_mla_decode_tc's time over the same bytes (bf16 caches only; NaN for f32, which it does not read);
     * tmaMillis ls_mla_decode_tma's (bf16 caches on compute capability 9.0 and up, else NaN).
     */
    public record Result(int batch, int context, KvCacheDtype dtype, MlaDecodePlan plan, double decodeMillis,
                         double attentionMillis, long bytesRead, double tcMillis, double tmaMillis) {
        public boolean hasTc() {
            return !Double.isNaN(tcMillis);
        }

        public boolean hasTma() {
            return !Double.isNaN(tmaMillis);
        }

        public double tcGbPerSecond() {
            return bytesRead / (tcMillis * 1e6);
        }

        public double tmaGbPerSecond() {
            return bytesRead / (tmaMillis * 1e6);
        }

        public double gbPerSecond() {
            return bytesRead / (decodeMillis * 1e6);
        }

        public double attentionGbPerSecond() {
            return bytesRead / (attentionMillis * 1e6);
        }

        @Override
        public String toString() {
            return String.format("%s cache B %d C %d (%d items x %d head groups, chunk %d): ls_mla_decode %.3f ms,"
                            + " %.1f GB/s; ls_attention: %.3f ms, %.1f GB/s%s", dtype, batch, context, plan.numWork(),
                    plan.headGroups(), plan.chunk(), decodeMillis, gbPerSecond(), attentionMillis, attentionGbPerSecond(),
                    hasTc() ? String.format("; ls_mla_decode_tc: %.3f ms, %.1f GB/s", tcMillis, tcGbPerSecond()) : "")
                    + (hasTma() ? String.format("; ls_mla_decode_tma: %.3f ms, %.1f GB/s", tmaMillis, tmaGbPerSecond())
                    : "");
        }
    }

    private MlaDecodeBench() {
    }

    /**
     * B in {64, 256} x C in {1024, 4096}, each over an f32 and a bf16 cache, timed over reps launches after two
     * warm-up runs.
     */
    public static List<Result> run(CudaContext ctx, int reps) {
        List<Result> results = new ArrayList<>();
        ctx.makeCurrent();
        try (KernelModule module = KernelModule.load(ctx.driver())) {
            for (int batch : new int[]{64, 256}) {
                for (int context : new int[]{1024, 4096}) {
                    for (KvCacheDtype dtype : KvCacheDtype.values()) {
                        results.add(run(ctx, module, batch, context, dtype, reps));
                    }
                }
            }
        }
        return results;
    }

    /** One shape: B sequences, each decoding its token at position C - 1, over a cache of the given dtype. */
    public static Result run(CudaContext ctx, KernelModule module, int batch, int context, KvCacheDtype dtype,
                             int reps) {
        CudaDriver d = ctx.driver();
        int width = R + DR;
        int blocksPerSeq = (context + BLOCK - 1) / BLOCK;
        int[] tables = new int[batch * blocksPerSeq];
        for (int i = 0; i < tables.length; i++) {
            tables[i] = i;   // sequence s owns blocks s*blocksPerSeq ..: contiguous, as after a fresh prefill
        }
        int[] seqOf = new int[batch];
        int[] lengths = new int[batch];
        int[] positions = new int[batch];
        for (int s = 0; s < batch; s++) {
            seqOf[s] = s;
            lengths[s] = context;
            positions[s] = context - 1;
        }
        MlaDecodePlan plan = MlaDecodePlan.of(seqOf, lengths, HEADS, ctx.device().multiprocessors());
        MlaDecodePlan tcPlan = MlaDecodePlan.of(seqOf, lengths, HEADS, ctx.device().multiprocessors(),
                MlaDecodePlan.DEFAULT_MIN_CHUNK, KernelLimits.MLA_TC_TILE);   // as CudaMlaAbsorbed plans it
        int partialItems = Math.max(plan.launchItems(), tcPlan.launchItems());
        try (BenchBuffers buffers = new BenchBuffers(ctx)) {
            long cacheValues = (long) tables.length * BLOCK * width;   // even: width is
            int elementBytes = dtype.bytesPerValue();
            boolean isBf16 = dtype == KvCacheDtype.BF16;
            long cache = buffers.alloc(elementBytes * cacheValues);
            int bf16 = Float.floatToRawIntBits(0.01f) >>> 16;          // 0.01 truncated to bf16, two per word
            d.memsetD32(cache, isBf16 ? bf16 | bf16 << 16 : Float.floatToRawIntBits(0.01f),
                    elementBytes * cacheValues / 4);
            int kernelDtype = isBf16 ? KernelLimits.DTYPE_BF16 : KernelLimits.DTYPE_F32;
            long q = buffers.alloc(4L * batch * HEADS * width);
            d.memsetD32(q, Float.floatToRawIntBits(0.02f), (long) batch * HEADS * width);
            long out = buffers.alloc(4L * batch * HEADS * R);
            long partialAcc = buffers.alloc(4L * partialItems * HEADS * R);
            long partialMl = buffers.alloc(8L * partialItems * HEADS);
            long dTables = buffers.upload(tables);
            long dWork = buffers.upload(plan.launchWork());
            long dSplitBase = buffers.upload(plan.splitBase());
            long dWorkTc = buffers.upload(tcPlan.launchWork());
            long dSplitBaseTc = buffers.upload(tcPlan.splitBase());
            long dPositions = buffers.upload(positions);
            long dSeqOf = buffers.upload(seqOf);

            Runnable decode = () -> {
                module.launch(new MlaDecodeParams(q, cache, dTables, dWork, dSplitBase, partialAcc, partialMl, out,
                        plan.launchItems(), HEADS, R, DR, HEADS * width, width, width, BLOCK, blocksPerSeq, HEADS * R, R,
                        SCALE, kernelDtype), new Grid(plan.launchItems(), plan.headGroups(), 1,
                        32 * KernelLimits.MLA_DECODE_WARPS, KernelLimits.mlaDecodeSharedBytes(R, DR, elementBytes)),
                        ctx.streamHandle());
                if (plan.needsCombine()) {
                    module.launch(new MlaCombineParams(partialAcc, partialMl, dSplitBase, out, batch, HEADS, R,
                            HEADS * R, R), new Grid(batch, HEADS, 1, KernelLimits.THREADS, 0), ctx.streamHandle());
                }
            };
            Runnable attention = () -> module.launch(new AttentionParams(q, cache, 0, cache, out, 0, dPositions, dSeqOf,
                    dTables, 0, batch, HEADS, HEADS, width, 0, R, HEADS * width, width, width, 0, 0, 0, width, 0,
                    HEADS * R, R, BLOCK, blocksPerSeq, SCALE, kernelDtype), new Grid(batch, HEADS, 1, 32 * KernelLimits.ATTN_WARPS,
                    KernelLimits.attentionSharedBytes(width, 0, R)), ctx.streamHandle());
            /* ls_mla_decode_tc, or with bulkCopy its bulk-copy variant: the same launch otherwise */
            Function<Boolean, Runnable> decodeTc = bulkCopy -> () -> {
                module.launch(new MlaDecodeTcParams(q, cache, dTables, dWorkTc, dSplitBaseTc, partialAcc, partialMl,
                        out, tcPlan.launchItems(), HEADS, R, DR, HEADS * width, width, width, BLOCK, blocksPerSeq,
                        HEADS * R, R, SCALE, bulkCopy), MlaDecodeTc.grid(tcPlan, HEADS, R, DR), ctx.streamHandle());
                if (tcPlan.needsCombine()) {
                    module.launch(new MlaCombineParams(partialAcc, partialMl, dSplitBaseTc, out, batch, HEADS, R,
                            HEADS * R, R), new Grid(batch, HEADS, 1, KernelLimits.THREADS, 0), ctx.streamHandle());
                }
            };
            double decodeMs = time(ctx, decode, reps);
            double attentionMs = time(ctx, attention, reps);
            double tcMs = isBf16 ? time(ctx, decodeTc.apply(false), reps) : Double.NaN;   // tensor cores read bf16 only
            double tmaMs = isBf16 && MlaDecodeTc.bulkCopy(ctx.device(), true) ? time(ctx, decodeTc.apply(true), reps)
                    : Double.NaN;
            long bytes = (long) elementBytes * batch * context * width + 4L * batch * HEADS * width;
            return new Result(batch, context, dtype, plan, decodeMs, attentionMs, bytes, tcMs, tmaMs);
        }
    }

    /** Milliseconds per run, from CUDA events around reps back-to-back runs (after two warm-up runs). */
    private static double time(CudaContext ctx, Runnable body, int reps) {
        CudaDriver d = ctx.driver();
        body.run();
        body.run();
        MemorySegment start = d.eventCreate(0);
        MemorySegment end = d.eventCreate(0);
        try {
            d.eventRecord(start, ctx.streamHandle());
            for (int i = 0; i < reps; i++) {
                body.run();
            }
            d.eventRecord(end, ctx.streamHandle());
            d.eventSynchronize(end);
            return d.eventElapsedMillis(start, end) / reps;
        } finally {
            d.eventDestroy(start);
            d.eventDestroy(end);
        }
    }


}

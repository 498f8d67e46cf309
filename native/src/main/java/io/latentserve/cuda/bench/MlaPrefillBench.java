package io.latentserve.cuda.bench;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.backend.CudaBackend;
import io.latentserve.cuda.backend.MlaPrefillTc;
import io.latentserve.cuda.driver.CudaDriver;
import io.latentserve.cuda.kernels.KernelModule;
import io.latentserve.cuda.kernels.MlaPrefillTcParams;
import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.backend.MlaShape;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.random.HashFill;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Prefill attention of one DeepSeek-V2-Lite layer (MLA decompressed: 16 heads, dn 128 + dr 64, dv 128, latent 512)
 * for one sequence of T new tokens after P cached ones, on each path: {@link CudaBackend#mlaAttention} whole (the
 * gather of the latent rows and their decompression through kv_b_proj, common to both, then ls_mla_prefill_tc or
 * the cuBLAS hi/lo GEMMs + ls_causal_softmax), and ls_mla_prefill_tc's launch alone (the kernel over K/V already
 * split, 3 and 1 terms). The figure is attention FLOPs per second: 2·(dn + dr + dv)·H per (query, visible key)
 * pair, T·P + T(T + 1)/2 pairs (T²/2 for a fresh prompt), the causal half only; compare with the bf16 GEMM
 * ceiling. The whole-call rows include the decompression GEMM (2·T'·512·H·256 FLOPs over the T' = P + T context
 * rows, not counted), so the kernel-alone rows are the kernel's own figure. Short chunks are timed in the absorbed
 * form too (the same FLOP count, for comparable rows): the call's time beside the decompressed one's is what
 * MlaMode.AUTO's choice rests on.
 */
public final class MlaPrefillBench {
    public static final MlaShape V2_LITE = new MlaShape(16, 128, 64, 128, 512, 0.1147214f);
    /** Longest chunk timed in the absorbed form too (twice MlaMode.AUTO_ABSORBED_MAX_TOKENS: both sides of it). */
    public static final int ABSORBED_MAX_TOKENS = 2 * MlaMode.AUTO_ABSORBED_MAX_TOKENS;
    static final int BLOCK = 64;

    /** What a row timed. */
    public enum Path {
        /** CudaBackend.mlaAttention with ls_mla_prefill_tc (3 terms). */
        FLASH_CALL,
        /** CudaBackend.mlaAttention on the cuBLAS path (flash prefill off). */
        GEMM_CALL,
        /**
         * CudaBackend.mlaAttention in the absorbed form (each new token a row of the split-KV decode kernels, no
         * decompression), for chunks of at most {@link #ABSORBED_MAX_TOKENS}: where MlaMode.AUTO's limit should be.
         */
        ABSORBED_CALL,
        /** ls_mla_prefill_tc's launch alone, 3 terms. */
        KERNEL_3,
        /** ls_mla_prefill_tc's launch alone, 1 term (hi only). */
        KERNEL_1
    }

    /** One shape on one path: mean seconds of a call and the causal attention FLOPs it did. */
    public record Result(Path path, int newTokens, int cached, double secondsPerCall, double flops) {
        public double flopsPerSecond() {
            return flops / secondsPerCall;
        }
    }

    private MlaPrefillBench() {
    }

    /** Causal attention FLOPs of T new tokens after P cached ones: 2·(dn + dr + dv)·H per visible pair. */
    public static double flops(MlaShape sh, int newTokens, int cached) {
        double pairs = (double) newTokens * cached + (double) newTokens * (newTokens + 1) / 2;
        return 2.0 * (sh.qkHeadDim() + sh.vHeadDim()) * sh.numHeads() * pairs;
    }

    /**
     * Every path on T new tokens after P cached ones ({@code reps} timed calls after 2 warm-up calls); the
     * whole-call paths need the backend's activation memory for the cuBLAS path's scores (128 MiB at 4K) and
     * the decompressed context.
     */
    public static List<Result> run(CudaContext ctx, CudaBackend backend, MlaShape sh, int newTokens, int cached,
                                   int reps) {
        if (reps < 1 || newTokens < 1 || cached < 0) {
            throw new IllegalArgumentException("reps " + reps + ", T " + newTokens + ", P " + cached);
        }
        List<Result> results = new ArrayList<>();
        double flops = flops(sh, newTokens, cached);
        int ctxLen = cached + newTokens;
        int blocks = (ctxLen + BLOCK - 1) / BLOCK;
        int[] positions = new int[newTokens];
        int[] slots = new int[newTokens];
        for (int t = 0; t < newTokens; t++) {
            positions[t] = cached + t;
            slots[t] = cached + t;   // table = identity: slot = position
        }
        int[] table = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            table[i] = i;
        }
        AttentionBatch batch = new AttentionBatch(new int[]{0, newTokens}, positions, new int[][]{table}, slots, BLOCK);
        int h = sh.numHeads();
        SplittableRandom rnd = new SplittableRandom(11);
        try (KvCache cache = backend.kvCache(1, blocks, BLOCK, sh.cacheWidth(), KvCacheDtype.BF16)) {
            backend.beginForward();
            int[] all = new int[ctxLen];
            for (int i = 0; i < ctxLen; i++) {
                all[i] = i;
            }
            backend.writeKvCache(cache, 0, backend.fromHost(random(rnd, ctxLen * sh.cacheWidth()), ctxLen,
                    sh.cacheWidth()), all);
            long[] kvShape = {(long) h * (sh.qkNopeHeadDim() + sh.vHeadDim()), sh.kvLoraRank()};
            Tensor kvB = backend.hashedWeight("bench.kv_b_proj", kvShape, HashFill.forTensor("bench.kv_b_proj",
                    kvShape, 1), null);
            Tensor q = backend.fromHost(random(rnd, newTokens * h * sh.qkHeadDim()), newTokens, h * sh.qkHeadDim());
            Tensor out = backend.activation(newTokens, h * sh.vHeadDim());
            for (boolean flash : new boolean[]{true, false}) {
                double s = seconds(backend::synchronize, reps,
                        () -> backend.mlaAttention(q, cache, 0, kvB, sh, batch, MlaMode.DECOMPRESSED, out, flash));
                results.add(new Result(flash ? Path.FLASH_CALL : Path.GEMM_CALL, newTokens, cached, s, flops));
            }
            if (newTokens <= ABSORBED_MAX_TOKENS) {
                double s = seconds(backend::synchronize, reps,
                        () -> backend.mlaAttention(q, cache, 0, kvB, sh, batch, MlaMode.ABSORBED, out));
                results.add(new Result(Path.ABSORBED_CALL, newTokens, cached, s, flops));
            }
        }
        for (int terms : new int[]{3, 1}) {
            double s = kernelAlone(ctx, sh, batch, ctxLen, terms, reps);
            results.add(new Result(terms == 3 ? Path.KERNEL_3 : Path.KERNEL_1, newTokens, cached, s, flops));
        }
        return results;
    }

    /**
     * ls_mla_prefill_tc alone over constant inputs (its time does not depend on the values) in device memory of its
     * own: q f32, k_nope | v and k_rope as bf16 hi and lo halves, laid out as CudaMlaDecompressed lays them out.
     */
    private static double kernelAlone(CudaContext ctx, MlaShape sh, AttentionBatch batch, int ctxLen, int terms,
                                      int reps) {
        CudaDriver d = ctx.driver();
        int h = sh.numHeads();
        int dn = sh.qkNopeHeadDim();
        int dr = sh.qkRopeHeadDim();
        int dv = sh.vHeadDim();
        int kvWidth = h * (dn + dv);
        int rows = batch.numTokens();
        int[] work = MlaPrefillTc.work(batch, List.of(0), new int[]{0});
        ctx.makeCurrent();
        try (KernelModule module = KernelModule.load(d); BenchBuffers buffers = new BenchBuffers(ctx)) {
            long q = buffers.alloc(4L * rows * h * (dn + dr));
            d.memsetD32(q, Float.floatToRawIntBits(0.02f), (long) rows * h * (dn + dr));
            long kv = buffers.alloc(2L * 2 * ctxLen * kvWidth);            // hi rows, then lo rows
            long rope = buffers.alloc(2L * 2 * ctxLen * Math.max(dr, 8));
            int bf16 = Float.floatToRawIntBits(0.01f) >>> 16;
            d.memsetD32(kv, bf16 | bf16 << 16, (long) ctxLen * kvWidth);
            d.memsetD32(rope, bf16 | bf16 << 16, (long) ctxLen * Math.max(dr, 8));
            long out = buffers.alloc(4L * rows * h * dv);
            long dPositions = buffers.upload(batch.positions());
            long dWork = buffers.upload(work);
            int numWork = work.length / 4;
            boolean lo = terms == 3;
            MlaPrefillTcParams p = new MlaPrefillTcParams(q, kv, lo ? kv + 2L * ctxLen * kvWidth : 0, rope,
                    lo && dr > 0 ? rope + 2L * ctxLen * dr : 0, dPositions, dWork, out, numWork, h, dn, dr, dv,
                    h * (dn + dr), dn + dr, kvWidth, dn + dv, dr, h * dv, dv, terms, sh.softmaxScale());
            return seconds(ctx::synchronize, reps, () -> module.launch(p, MlaPrefillTc.grid(h, numWork, dn + dr, dv,
                    terms), ctx.streamHandle()));
        }
    }

    /** Mean seconds of one call, wall clock over reps back-to-back calls after 2 warm-up calls. */
    private static double seconds(Runnable sync, int reps, Runnable call) {
        call.run();
        call.run();
        sync.run();
        long start = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            call.run();
        }
        sync.run();
        return (System.nanoTime() - start) / 1e9 / reps;
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }


}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.AttentionParams;
import io.latentserve.cuda.kernels.CausalSoftmaxParams;
import io.latentserve.cuda.kernels.CopyRowsParams;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.MlaPrefillTcParams;
import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.MlaShape;

import java.util.List;

/**
 * MLA attention in the decompressed form (MODEL_SPEC 3.1), which {@link CudaAttention} gives prefill chunks:
 * through ls_mla_prefill_tc (tensor cores, scores kept on the chip: {@link MlaPrefillTc}) where it takes the
 * shape, else through cuBLAS ({@link #gemmAttention}) or ls_attention.
 */
final class CudaMlaDecompressed {
    /** Which kernel path the last decompressed (prefill) attention call took. */
    enum PrefillPath { FLASH_TC, GEMM, CUDA_CORES }

    private static final long GEMM_ATTENTION_MIN_WORK = Long.getLong("latentserve.cuda.gemmAttentionMinWork", 16384);
    /** Scores of one query chunk of GEMM attention: [heads, chunk, context] f32 within this many bytes (tests
     *  lower it to exercise the chunking). */
    static long gemmScoresBytes = 256L << 20;
    /** Queries per GEMM attention chunk: smaller chunks skip more of the causal mask, larger ones make bigger GEMMs. */
    private static final int GEMM_QUERY_CHUNK = 512;

    private final Kernels kernels;
    private final StepMemory memory;
    private final Gemm gemm;
    /** Dynamic shared memory a block may opt into on this GPU (what ls_mla_prefill_tc's tiles may take). */
    private final int sharedOptIn;
    private PrefillPath lastPrefillPath;

    CudaMlaDecompressed(Kernels kernels, StepMemory memory, Gemm gemm) {
        this.kernels = kernels;
        this.memory = memory;
        this.gemm = gemm;
        this.sharedOptIn = kernels.ctx().device().sharedMemoryPerBlockOptin();
    }

    /** The path of the last decompressed prefill call (null before the first): tests check the routing. */
    PrefillPath lastPrefillPath() {
        return lastPrefillPath;
    }

    /**
     * k_nope and v of every context position decompressed through kv_b_proj (cuBLAS), then causal attention. The
     * context's cache rows are gathered into f32 first (a bf16 cache widened exactly), so all that follows is f32.
     */
    void attend(CudaActivation q, CudaKvCache cache, int layerIndex, CudaWeight kvB, MlaShape sh, AttentionBatch batch,
                List<Integer> seqs, CudaActivation out, boolean flash) {
        long layer = cache.layer(layerIndex);
        int width = cache.width();
        int h = sh.numHeads();
        int dn = sh.qkNopeHeadDim();
        int dr = sh.qkRopeHeadDim();
        int dv = sh.vHeadDim();
        int r = sh.kvLoraRank();
        int[] ctxBase = new int[seqs.size()];
        int total = 0;
        for (int i = 0; i < seqs.size(); i++) {
            ctxBase[i] = total;
            total = Math.addExact(total, batch.contextLength(seqs.get(i)));
        }
        int[] slots = new int[total];
        for (int i = 0; i < seqs.size(); i++) {
            int seq = seqs.get(i);
            for (int p = 0; p < batch.contextLength(seq); p++) {
                slots[ctxBase[i] + p] = batch.slot(seq, p);
            }
        }
        int[] tokenRows = AttentionRows.tokensOf(batch, seqs);
        int[] seqOf = new int[tokenRows.length];
        for (int i = 0, w = 0; i < seqs.size(); i++) {
            int count = batch.seqStarts()[seqs.get(i) + 1] - batch.seqStarts()[seqs.get(i)];
            for (int j = 0; j < count; j++) {
                seqOf[w++] = i;
            }
        }
        int kvWidth = h * (dn + dv);
        try (StepMemory.Scratch s = memory.scratch()) {
            long gathered = s.floats((long) total * width);   // [ctx, r+dr] f32: latent rows of the contexts
            kernels.launch(new CopyRowsParams(layer, s.ints(slots), gathered, 0, total, width, width, width,
                    cache.kernelDtype(), KernelLimits.DTYPE_F32), Kernels.rowsByCols(total, width));
            long kv = s.floats((long) total * kvWidth);        // [ctx, H·(dn+dv)] f32
            gemm.matmul(new CudaActivation(gathered, total, r, width, memory.generation()), kvB,
                    memory.view(kv, total, kvWidth));
            int n = tokenRows.length;
            // hi/lo terms of the flash kernel's products: 3 = f32-level accuracy (high), 1 = hi only (medium)
            int terms = gemm.splits() ? 3 : 1;
            if (flash && MlaPrefillTc.supports(h, dn, dr, dv, terms, sharedOptIn)) {
                int[] work = MlaPrefillTc.work(batch, seqs, ctxBase);
                if (MlaPrefillTc.fits(work.length / 4)) {
                    flashPrefill(s, q, out, sh, batch, kv, gathered + 4L * r, total, kvWidth, width, work, terms);
                    lastPrefillPath = PrefillPath.FLASH_TC;
                    return;
                }
            }
            if (useGemmAttention(batch, seqs)) {
                for (int i = 0; i < seqs.size(); i++) {
                    gemmAttention(q, out, sh, batch, seqs.get(i), kv + 4L * ctxBase[i] * kvWidth,
                            gathered + 4L * ((long) ctxBase[i] * width + r), kvWidth, width);
                }
                lastPrefillPath = PrefillPath.GEMM;
                return;
            }
            lastPrefillPath = PrefillPath.CUDA_CORES;
            kernels.launch(new AttentionParams(q.address(), kv, gathered + 4L * r, kv + 4L * dn, out.address(),
                    s.ints(tokenRows), s.ints(AttentionRows.gather(batch.positions(), tokenRows)), s.ints(seqOf), 0, s.ints(ctxBase),
                    n, h, 1, dn, dr, dv, q.stride(), dn + dr, kvWidth, dn + dv, width, 0, kvWidth, dn + dv,
                    out.stride(), dv, 0, 0, sh.softmaxScale()), Kernels.attentionGrid(n, h, dn, dr, dv));
        }
    }

    /**
     * ls_mla_prefill_tc over the whole batch in one launch: k_nope | v and the rope keys of every context row split
     * once into bf16 hi + lo (ls_split_bf16; with 1 term, the hi rows alone), then one block per (head, work item
     * of up to 64 queries).
     *
     * @param kv    [ctx, H·(dn+dv)] f32: k_nope | v of every head, all sequences' contexts one after another
     * @param kRope [ctx, .. width] f32: the rope key of each context row
     * @param work  {@link MlaPrefillTc#work} items
     * @param terms 3 (hi·hi + hi·lo + lo·hi) or 1 (hi·hi)
     */
    private void flashPrefill(StepMemory.Scratch s, CudaActivation q, CudaActivation out, MlaShape sh,
                              AttentionBatch batch, long kv, long kRope, int total, int kvWidth, int width, int[] work,
                              int terms) {
        int h = sh.numHeads();
        int dn = sh.qkNopeHeadDim();
        int dr = sh.qkRopeHeadDim();
        int dv = sh.vHeadDim();
        boolean lo = terms == 3;
        long kvHi = kernels.splitBf16(s, kv, total, kvWidth, kvWidth, lo);              // [(1|2)·ctx, H·(dn+dv)] bf16
        long ropeHi = dr > 0 ? kernels.splitBf16(s, kRope, total, dr, width, lo) : 0;   // [(1|2)·ctx, dr] bf16
        int numWork = work.length / 4;
        kernels.launch(new MlaPrefillTcParams(q.address(), kvHi, lo ? kvHi + 2L * total * kvWidth : 0, ropeHi,
                lo && dr > 0 ? ropeHi + 2L * total * dr : 0, s.ints(batch.positions()), s.ints(work), out.address(),
                numWork, h, dn, dr, dv, q.stride(), dn + dr, kvWidth, dn + dv, dr, out.stride(), dv, terms,
                sh.softmaxScale()), MlaPrefillTc.grid(h, numWork, dn + dr, dv, terms));
    }

    /**
     * Long prefill chunks go through cuBLAS (tensor of scores per head, then P·V) rather than ls_attention's
     * one block per (token, head): the products are GEMM-shaped and ls_attention re-reads every key for every
     * query. Short ones stay on ls_attention (no scores buffer, fewer launches). The work threshold (queries x
     * keys summed over the sequences) is -Dlatentserve.cuda.gemmAttentionMinWork, default 16384.
     */
    static boolean useGemmAttention(AttentionBatch batch, List<Integer> seqs) {
        long work = 0;
        for (int seq : seqs) {
            int count = batch.seqStarts()[seq + 1] - batch.seqStarts()[seq];
            work += (long) count * batch.contextLength(seq);
        }
        return work >= GEMM_ATTENTION_MIN_WORK;
    }

    /**
     * Causal attention of one sequence's new tokens over its decompressed context, as GEMMs on tensor cores:
     * per head S = q_nope·k_noppᵀ + q_rope·k_ropeᵀ (the rope key shared by all heads: batch stride 0),
     * P = causal softmax(S · scale) (ls_causal_softmax), out = P·v. Every operand is f32, so each product is
     * done as the three bf16 GEMMs of its hi/lo split, hi·hi + hi·lo + lo·hi (the lo·lo term is below 2^-16
     * relative), accumulated in f32: about the accuracy of today's f32 activations against bf16 weights at
     * a fraction of an FP32 GEMM's time. At --matmul-precision medium ({@link Gemm#splits()} false) each
     * operand is only rounded to bf16 and each product is the one term hi·hi. Queries go in chunks of at most
     * GEMM_QUERY_CHUNK (and of scores within gemmScoresBytes), each against only the keys its last query sees,
     * which skips about half of the masked upper triangle.
     *
     * @param kv    [ctx, H·(dn+dv)] f32: k_nope | v of every head, this sequence's context
     * @param kRope [ctx, .. width] f32: the rope key of each context row (the cache's last dr columns)
     */
    private void gemmAttention(CudaActivation q, CudaActivation out, MlaShape sh, AttentionBatch batch, int seq,
                               long kv, long kRope, int kvWidth, int width) {
        int h = sh.numHeads();
        int dn = sh.qkNopeHeadDim();
        int dr = sh.qkRopeHeadDim();
        int dv = sh.vHeadDim();
        int first = batch.seqStarts()[seq];
        int count = batch.seqStarts()[seq + 1] - first;
        int ctx = batch.contextLength(seq);
        int start = ctx - count;                          // position of the first new token
        int qWidth = h * (dn + dr);
        int chunk = (int) Math.max(1, Math.min(Math.min(count, GEMM_QUERY_CHUNK), gemmScoresBytes / (4L * h * ctx)));
        boolean split = gemm.splits();
        int numTerms = split ? 3 : 1;                     // medium: the first term, hi·hi, alone
        try (StepMemory.Scratch s = memory.scratch()) {
            long kvHi = kernels.splitBf16(s, kv, ctx, kvWidth, kvWidth, split);   // [(2·)ctx, H·(dn+dv)] bf16: hi (+ lo)
            long kvLo = kvHi + 2L * ctx * kvWidth;
            long ropeHi = dr > 0 ? kernels.splitBf16(s, kRope, ctx, dr, width, split) : 0;   // [(2·)ctx, dr] bf16
            long ropeLo = ropeHi + 2L * ctx * dr;
            for (int c0 = 0; c0 < count; c0 += chunk) {
                int m = Math.min(chunk, count - c0);
                int keys = start + c0 + m;                    // what the chunk's last query sees
                try (StepMemory.Scratch c = memory.scratch()) {
                    long qHi = kernels.splitBf16(c, q.address() + 4L * (first + c0) * q.stride(), m, qWidth, q.stride(),
                            split);
                    long qLo = qHi + 2L * m * qWidth;
                    long scores = c.floats((long) h * m * keys);   // [H, m, keys] f32
                    long sStride = (long) m * keys;
                    long[][] terms = {{qHi, kvHi, ropeHi}, {qHi, kvLo, ropeLo}, {qLo, kvHi, ropeHi}};
                    for (int t = 0; t < numTerms; t++) {
                        gemm.batchedBf16(true, m, keys, dn, 1f, terms[t][0], qWidth, dn + dr, terms[t][1], kvWidth,
                                dn + dv, t == 0 ? 0f : 1f, scores, keys, sStride, h);
                        if (dr > 0) {
                            gemm.batchedBf16(true, m, keys, dr, 1f, terms[t][0] + 2L * dn, qWidth, dn + dr,
                                    terms[t][2], dr, 0, 1f, scores, keys, sStride, h);
                        }
                    }
                    kernels.launch(new CausalSoftmaxParams(scores, h * m, m, keys, start + c0, sh.softmaxScale()),
                            Grid.of(h * m, KernelLimits.THREADS));
                    long pHi = kernels.splitBf16(c, scores, h * m, keys, keys, split);   // [(2·)H·m, keys] bf16
                    long pLo = pHi + 2L * h * m * keys;
                    long outRows = out.address() + 4L * (first + c0) * out.stride();
                    long[][] pv = {{pHi, kvHi}, {pHi, kvLo}, {pLo, kvHi}};
                    for (int t = 0; t < numTerms; t++) {
                        gemm.batchedBf16(false, m, dv, keys, 1f, pv[t][0], keys, sStride, pv[t][1] + 2L * dn,
                                kvWidth, dn + dv, t == 0 ? 0f : 1f, outRows, out.stride(), dv, h);
                    }
                }
            }
        }
    }
}

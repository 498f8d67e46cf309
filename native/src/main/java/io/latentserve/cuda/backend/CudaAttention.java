package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.AttentionParams;
import io.latentserve.cuda.kernels.CausalSoftmaxParams;
import io.latentserve.cuda.kernels.CopyRowsParams;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.MlaAbsorbParams;
import io.latentserve.cuda.kernels.MlaApplyUvParams;
import io.latentserve.cuda.kernels.MlaCombineParams;
import io.latentserve.cuda.kernels.MlaDecodeParams;
import io.latentserve.cuda.kernels.MlaDecodeTcParams;
import io.latentserve.cuda.kernels.MlaPrefillTcParams;
import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.backend.MlaShape;

import java.util.ArrayList;
import java.util.List;

/**
 * MLA attention in both forms (MODEL_SPEC 3.1 decompressed for prefill chunks, 3.3 absorbed for decode
 * tokens, chosen per sequence as the CPU backend chooses) and paged MHA/GQA on ls_attention; absorbed rows
 * that are each the one new token of their sequence (decode) go through ls_mla_decode + ls_mla_combine,
 * split over the keys by an {@link MlaDecodePlan} (ls_mla_decode_tc, on tensor cores, in place of
 * ls_mla_decode over a bf16 cache of a shape it takes: {@link MlaDecodeTc}; or its bulk-copy variant
 * ls_mla_decode_tma on Hopper with {@link #mlaDecodeBulk}). Decompressed prefill chunks go
 * through ls_mla_prefill_tc (tensor cores, scores kept on the chip: {@link MlaPrefillTc}) where it takes the
 * shape, else through cuBLAS ({@link #gemmAttention}) or ls_attention.
 */
final class CudaAttention {
    private static final int ATTN_THREADS = 32 * KernelLimits.ATTN_WARPS;
    /** -Dlatentserve.cuda.mlaDecode=false keeps absorbed decode on ls_attention (for A/B comparisons). */
    private static final boolean MLA_DECODE = !"false".equals(System.getProperty("latentserve.cuda.mlaDecode"));
    /**
     * Over a bf16 cache, decode rows of shapes {@link MlaDecodeTc#supports} takes go through ls_mla_decode_tc
     * (tensor cores); -Dlatentserve.cuda.mlaDecodeTc=false keeps them on ls_mla_decode (for A/B comparisons).
     */
    private static final boolean MLA_DECODE_TC = !"false".equals(System.getProperty("latentserve.cuda.mlaDecodeTc"));
    /**
     * -Dlatentserve.cuda.mlaDecodeBulk=true runs those decode rows on ls_mla_decode_tma (the bulk copy engine fills
     * the key tiles: {@link MlaDecodeTc#bulkCopy}) on compute capability 9.0 and up. Off by default until a GPU run
     * has shown it correct and faster (MlaDecodeTcGpuTest, the MLA decode bench rows): the emulator checks its
     * logic, but a barrier protocol wrong on hardware hangs the step instead of failing it. Not final: tests
     * compare both paths in one JVM.
     */
    static boolean mlaDecodeBulk = Boolean.parseBoolean(System.getProperty("latentserve.cuda.mlaDecodeBulk", "false"));

    /**
     * Decompressed prefill on ls_mla_prefill_tc wherever {@link MlaPrefillTc#supports} takes the shape, short
     * chunks included (one launch, keys read once per 64 queries: nothing to win from ls_attention there);
     * -Dlatentserve.cuda.flashPrefill=false keeps the cuBLAS / ls_attention paths (A/B runs). Not final: tests
     * compare both paths in one JVM.
     */
    static boolean flashPrefill = !"false".equals(System.getProperty("latentserve.cuda.flashPrefill"));
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
    private final int smCount;
    /** Dynamic shared memory a block may opt into on this GPU (ls_mla_decode's pipeline needs ~108 KiB). */
    private final int sharedOptIn;
    /** The last decode plan and what it was made for: every layer of a forward pass sees the same batch. */
    private AttentionBatch planBatch;
    private List<Integer> planSeqs;
    private int planHeads;
    private int planTile;
    private MlaDecodePlan plan;
    private PrefillPath lastPrefillPath;
    /** The kernel of the last absorbed decode call (null before the first): tests check the routing. */
    private String lastDecodeKernel;

    CudaAttention(Kernels kernels, StepMemory memory, Gemm gemm) {
        this.kernels = kernels;
        this.memory = memory;
        this.gemm = gemm;
        this.smCount = Math.max(1, kernels.ctx().device().multiprocessors());
        this.sharedOptIn = kernels.ctx().device().sharedMemoryPerBlockOptin();
    }

    /** The kernel the last absorbed decode call ran (ls_mla_decode_tc, ls_mla_decode_tma, ...; null before any). */
    String lastDecodeKernel() {
        return lastDecodeKernel;
    }

    /** The path of the last decompressed prefill call (null before the first): tests check the routing. */
    PrefillPath lastPrefillPath() {
        return lastPrefillPath;
    }

    void mla(CudaActivation q, CudaKvCache cache, int layer, CudaWeight kvB, MlaShape sh, AttentionBatch batch,
             MlaMode mode, CudaActivation out) {
        mla(q, cache, layer, kvB, sh, batch, mode, out, flashPrefill);
    }

    /** As above; flash says whether decompressed prefill may take ls_mla_prefill_tc (benchmarks set it per call). */
    void mla(CudaActivation q, CudaKvCache cache, int layer, CudaWeight kvB, MlaShape sh, AttentionBatch batch,
             MlaMode mode, CudaActivation out, boolean flash) {
        int h = sh.numHeads();
        if (q.cols() != h * sh.qkHeadDim() || out.cols() != h * sh.vHeadDim() || cache.width() != sh.cacheWidth()
                || kvB.cols() != sh.kvLoraRank() || kvB.rows() != h * (sh.qkNopeHeadDim() + sh.vHeadDim())
                || q.rows() != out.rows() || q.rows() != batch.numTokens()) {
            throw new IllegalArgumentException("MLA attention shapes do not match " + sh);
        }
        boolean absorbable = sh.kvLoraRank() <= KernelLimits.ATTN_MAX_DV
                && sh.cacheWidth() <= KernelLimits.ATTN_MAX_QK;
        if (mode == MlaMode.ABSORBED && !absorbable) {
            throw new IllegalArgumentException("absorbed MLA keeps kv_lora_rank values per lane group: at most "
                    + KernelLimits.ATTN_MAX_DV + ", got " + sh.kvLoraRank());
        }
        if (sh.vHeadDim() > KernelLimits.ATTN_MAX_DV || sh.qkHeadDim() > KernelLimits.ATTN_MAX_QK) {
            throw new IllegalArgumentException("MLA head dims above the kernel limits (dv <= "
                    + KernelLimits.ATTN_MAX_DV + ", dn + dr <= " + KernelLimits.ATTN_MAX_QK + "): " + sh);
        }
        PagedBatch paged = PagedBatch.of(batch, cache.numBlocks(), cache.blockSize());
        List<Integer> absorbed = new ArrayList<>();
        List<Integer> decompressed = new ArrayList<>();
        for (int s = 0; s < batch.numSeqs(); s++) {
            int count = batch.seqStarts()[s + 1] - batch.seqStarts()[s];
            if (count == 0) {
                continue;
            }
            boolean useAbsorbed = mode == MlaMode.ABSORBED || mode == MlaMode.AUTO && count == 1 && absorbable;
            (useAbsorbed ? absorbed : decompressed).add(s);
        }
        if (!absorbed.isEmpty()) {
            absorbed(q, cache, layer, kvB, sh, batch, paged, absorbed, out);
        }
        if (!decompressed.isEmpty()) {
            decompressed(q, cache, layer, kvB, sh, batch, decompressed, out, flash);
        }
    }

    /**
     * q̂ = W_UKᵀ q_nope per head, attention over the latent rows of the paged cache (f32 or bf16, read as it is
     * stored), o = W_UV ô.
     */
    private void absorbed(CudaActivation q, CudaKvCache cache, int layerIndex, CudaWeight kvB, MlaShape sh,
                          AttentionBatch batch, PagedBatch paged, List<Integer> seqs, CudaActivation out) {
        long layer = cache.layer(layerIndex);
        int width = cache.width();
        int shared = KernelLimits.mlaDecodeSharedBytes(sh.kvLoraRank(), sh.qkRopeHeadDim(), cache.elementBytes());
        int[] tokenRows = tokensOf(batch, seqs);
        int n = tokenRows.length;
        int h = sh.numHeads();
        int r = sh.kvLoraRank();
        int dr = sh.qkRopeHeadDim();
        boolean oneTokenEach = MLA_DECODE && n == seqs.size();   // each row is its sequence's last token
        boolean tensorCores = oneTokenEach && MLA_DECODE_TC && cache.dtype() == KvCacheDtype.BF16
                && MlaDecodeTc.supports(h, r, dr, sharedOptIn);
        boolean decode = tensorCores || oneTokenEach && r <= KernelLimits.MLA_MAX_R && r + dr <= KernelLimits.MLA_MAX_QK
                // its tile buffers fit this GPU's shared memory (not sm_86/89's 99 KiB at 512 + 64: ls_attention)
                && shared <= Math.max(Grid.DEFAULT_MAX_SHARED, sharedOptIn);
        try (StepMemory.Scratch s = memory.scratch()) {
            long rows = s.ints(tokenRows);
            long tables = s.ints(paged.tables());
            long qa = s.floats((long) n * h * (r + dr));   // [n, H, r+dr] f32
            long oLatent = s.floats((long) n * h * r);     // [n, H, r] f32
            kernels.launch(new MlaAbsorbParams(q.address(), kvB.address(), qa, rows, n, h, sh.qkNopeHeadDim(), dr,
                    sh.vHeadDim(), r, q.stride(), kvB.dtype()),
                    new Grid(n, h * ((r + 31) / 32), 1, KernelLimits.THREADS, 0));
            if (decode) {
                MlaDecodePlan p = decodePlan(batch, paged, seqs, tokenRows, h,
                        tensorCores ? KernelLimits.MLA_TC_TILE : KernelLimits.MLA_TILE);
                int items = p.launchItems();   // padded: one launch shape while contexts grow (graphs)
                long partialAcc = p.needsCombine() ? s.floats((long) items * h * r) : 0;
                long partialMl = p.needsCombine() ? s.floats((long) items * h * 2) : 0;
                long splitBase = s.ints(p.splitBase());
                long work = s.ints(p.launchWork());
                if (tensorCores) {
                    var params = new MlaDecodeTcParams(qa, layer, tables, work, splitBase, partialAcc, partialMl,
                            oLatent, items, h, r, dr, h * (r + dr), r + dr, width, batch.blockSize(),
                            paged.maxBlocks(), h * r, r, sh.softmaxScale(),
                            MlaDecodeTc.bulkCopy(kernels.ctx().device(), mlaDecodeBulk));
                    kernels.launch(params, MlaDecodeTc.grid(p, h, r, dr));
                    lastDecodeKernel = params.kernel();
                } else {
                    var params = new MlaDecodeParams(qa, layer, tables, work, splitBase, partialAcc, partialMl,
                            oLatent, items, h, r, dr, h * (r + dr), r + dr, width, batch.blockSize(),
                            paged.maxBlocks(), h * r, r, sh.softmaxScale(), cache.kernelDtype());
                    kernels.launch(params,
                            new Grid(items, p.headGroups(), 1, 32 * KernelLimits.MLA_DECODE_WARPS, shared));
                    lastDecodeKernel = params.kernel();
                }
                if (p.needsCombine()) {
                    kernels.launch(new MlaCombineParams(partialAcc, partialMl, splitBase, oLatent, n, h, r, h * r, r),
                            new Grid(n, h, 1, KernelLimits.THREADS, 0));
                }
            } else {
                long positions = s.ints(gather(batch.positions(), tokenRows));
                long seqOf = s.ints(gather(paged.seqOf(), tokenRows));
                kernels.launch(new AttentionParams(qa, layer, 0, layer, oLatent, 0, positions, seqOf, tables, 0,
                        n, h, h, r + dr, 0, r, h * (r + dr), r + dr, width, 0, 0, 0, width, 0, h * r, r,
                        batch.blockSize(), paged.maxBlocks(), sh.softmaxScale(), cache.kernelDtype()),
                        attentionGrid(n, h, r + dr, 0, r));
            }
            kernels.launch(new MlaApplyUvParams(oLatent, kvB.address(), out.address(), rows, n, h,
                    sh.qkNopeHeadDim(), sh.vHeadDim(), r, out.stride(), kvB.dtype()),
                    new Grid(n, h * ((sh.vHeadDim() + 15) / 16), 1, KernelLimits.THREADS, 0));
        }
    }

    /**
     * The split plan of these decode rows, made once per forward pass: the model hands every layer the same
     * AttentionBatch instance, whose context lengths (and so the plan) are the same in each, so the plan is
     * kept keyed on that instance (plus the rows and the head count). A new batch object makes a new plan;
     * planning is O(rows x candidate chunks) integer work, cheap even when it does run per call. Chunks are
     * multiples of the decode kernel's key tile.
     */
    private MlaDecodePlan decodePlan(AttentionBatch batch, PagedBatch paged, List<Integer> seqs, int[] tokenRows,
                                     int heads, int tile) {
        if (plan != null && batch == planBatch && heads == planHeads && tile == planTile && seqs.equals(planSeqs)) {
            return plan;
        }
        int[] lengths = new int[tokenRows.length];
        int[] seqOf = new int[tokenRows.length];
        for (int w = 0; w < tokenRows.length; w++) {
            lengths[w] = batch.positions()[tokenRows[w]] + 1;
            seqOf[w] = paged.seqOf()[tokenRows[w]];
        }
        plan = MlaDecodePlan.of(seqOf, lengths, heads, smCount, MlaDecodePlan.DEFAULT_MIN_CHUNK, tile);
        planBatch = batch;
        planTile = tile;
        planSeqs = List.copyOf(seqs);
        planHeads = heads;
        return plan;
    }

    /**
     * k_nope and v of every context position decompressed through kv_b_proj (cuBLAS), then causal attention. The
     * context's cache rows are gathered into f32 first (a bf16 cache widened exactly), so all that follows is f32.
     */
    private void decompressed(CudaActivation q, CudaKvCache cache, int layerIndex, CudaWeight kvB, MlaShape sh,
                              AttentionBatch batch, List<Integer> seqs, CudaActivation out, boolean flash) {
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
        int[] tokenRows = tokensOf(batch, seqs);
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
                    s.ints(tokenRows), s.ints(gather(batch.positions(), tokenRows)), s.ints(seqOf), 0, s.ints(ctxBase),
                    n, h, 1, dn, dr, dv, q.stride(), dn + dr, kvWidth, dn + dv, width, 0, kvWidth, dn + dv,
                    out.stride(), dv, 0, 0, sh.softmaxScale()), attentionGrid(n, h, dn, dr, dv));
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
        long kvHi = gemm.splitBf16(s, kv, total, kvWidth, kvWidth, lo);              // [(1|2)·ctx, H·(dn+dv)] bf16
        long ropeHi = dr > 0 ? gemm.splitBf16(s, kRope, total, dr, width, lo) : 0;   // [(1|2)·ctx, dr] bf16
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
            long kvHi = gemm.splitBf16(s, kv, ctx, kvWidth, kvWidth, split);   // [(2·)ctx, H·(dn+dv)] bf16: hi (+ lo)
            long kvLo = kvHi + 2L * ctx * kvWidth;
            long ropeHi = dr > 0 ? gemm.splitBf16(s, kRope, ctx, dr, width, split) : 0;   // [(2·)ctx, dr] bf16
            long ropeLo = ropeHi + 2L * ctx * dr;
            for (int c0 = 0; c0 < count; c0 += chunk) {
                int m = Math.min(chunk, count - c0);
                int keys = start + c0 + m;                    // what the chunk's last query sees
                try (StepMemory.Scratch c = memory.scratch()) {
                    long qHi = gemm.splitBf16(c, q.address() + 4L * (first + c0) * q.stride(), m, qWidth, q.stride(),
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
                    long pHi = gemm.splitBf16(c, scores, h * m, keys, keys, split);   // [(2·)H·m, keys] bf16
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

    /** Causal attention with numHeads / numKvHeads query heads per KV head over a [K | V] paged cache. */
    void gqa(CudaActivation q, CudaKvCache cache, int layer, int heads, int kvHeads, int headDim, float scale,
             AttentionBatch batch, CudaActivation out) {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0 || q.cols() != heads * headDim
                || out.cols() != heads * headDim || cache.width() != 2 * kvHeads * headDim
                || q.rows() != batch.numTokens() || out.rows() != q.rows()) {
            throw new IllegalArgumentException("GQA attention shapes do not match: heads " + heads + ", kv heads "
                    + kvHeads + ", head dim " + headDim);
        }
        if (headDim > KernelLimits.ATTN_MAX_DV) {
            throw new IllegalArgumentException("head dim " + headDim + " above " + KernelLimits.ATTN_MAX_DV);
        }
        PagedBatch paged = PagedBatch.of(batch, cache.numBlocks(), cache.blockSize());
        int n = batch.numTokens();
        long layerBase = cache.layer(layer);
        int width = cache.width();
        try (StepMemory.Scratch s = memory.scratch()) {
            long values = layerBase + (long) cache.elementBytes() * kvHeads * headDim;   // V follows K in each row
            kernels.launch(new AttentionParams(q.address(), layerBase, 0, values,
                    out.address(), 0, s.ints(batch.positions()), s.ints(paged.seqOf()), s.ints(paged.tables()), 0,
                    n, heads, heads / kvHeads, headDim, 0, headDim, q.stride(), headDim, width, headDim, 0, 0,
                    width, headDim, out.stride(), headDim, batch.blockSize(), paged.maxBlocks(), scale,
                    cache.kernelDtype()),
                    attentionGrid(n, heads, headDim, 0, headDim));
        }
    }

    private static Grid attentionGrid(int work, int heads, int d1, int d2, int dv) {
        return new Grid(work, heads, 1, ATTN_THREADS, KernelLimits.attentionSharedBytes(d1, d2, dv));
    }

    private static int[] tokensOf(AttentionBatch batch, List<Integer> seqs) {
        int n = 0;
        for (int s : seqs) {
            n += batch.seqStarts()[s + 1] - batch.seqStarts()[s];
        }
        int[] rows = new int[n];
        int w = 0;
        for (int s : seqs) {
            for (int t = batch.seqStarts()[s]; t < batch.seqStarts()[s + 1]; t++) {
                rows[w++] = t;
            }
        }
        return rows;
    }

    private static int[] gather(int[] values, int[] index) {
        int[] out = new int[index.length];
        for (int i = 0; i < index.length; i++) {
            out[i] = values[index[i]];
        }
        return out;
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.AttentionParams;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.backend.MlaShape;

import java.util.ArrayList;
import java.util.List;

/**
 * MLA attention in both forms (MODEL_SPEC 3.1 decompressed for prefill chunks: {@link CudaMlaDecompressed}, 3.3
 * absorbed for decode tokens: {@link CudaMlaAbsorbed}), chosen per sequence as the CPU backend chooses, after
 * checking the shapes against the kernel limits; and paged MHA/GQA on ls_attention.
 */
final class CudaAttention {
    /**
     * Decompressed prefill on ls_mla_prefill_tc wherever {@link MlaPrefillTc#supports} takes the shape, short
     * chunks included (one launch, keys read once per 64 queries: nothing to win from ls_attention there);
     * -Dlatentserve.cuda.flashPrefill=false keeps the cuBLAS / ls_attention paths (A/B runs). Not final: tests
     * compare both paths in one JVM.
     */
    static boolean flashPrefill = !"false".equals(System.getProperty("latentserve.cuda.flashPrefill"));

    private final Kernels kernels;
    private final StepMemory memory;
    private final CudaMlaAbsorbed mlaAbsorbed;
    private final CudaMlaDecompressed mlaDecompressed;

    CudaAttention(Kernels kernels, StepMemory memory, Gemm gemm) {
        this.kernels = kernels;
        this.memory = memory;
        this.mlaAbsorbed = new CudaMlaAbsorbed(kernels, memory);
        this.mlaDecompressed = new CudaMlaDecompressed(kernels, memory, gemm);
    }

    /** The kernel the last absorbed decode call ran (ls_mla_decode_tc, ls_mla_decode_tma, ...; null before any). */
    String lastDecodeKernel() {
        return mlaAbsorbed.lastDecodeKernel();
    }

    /** The path of the last decompressed prefill call (null before the first): tests check the routing. */
    CudaMlaDecompressed.PrefillPath lastPrefillPath() {
        return mlaDecompressed.lastPrefillPath();
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
            boolean useAbsorbed = mode == MlaMode.ABSORBED || mode == MlaMode.AUTO && absorbable
                    && mode.absorbs(count, batch.contextLength(s));
            (useAbsorbed ? absorbed : decompressed).add(s);
        }
        if (!absorbed.isEmpty()) {
            mlaAbsorbed.attend(q, cache, layer, kvB, sh, batch, paged, absorbed, out);
        }
        if (!decompressed.isEmpty()) {
            mlaDecompressed.attend(q, cache, layer, kvB, sh, batch, decompressed, out, flash);
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
                    Kernels.attentionGrid(n, heads, headDim, 0, headDim));
        }
    }
}

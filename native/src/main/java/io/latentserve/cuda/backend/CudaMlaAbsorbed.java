package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.AttentionParams;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.MlaAbsorbParams;
import io.latentserve.cuda.kernels.MlaApplyUvParams;
import io.latentserve.cuda.kernels.MlaCombineParams;
import io.latentserve.cuda.kernels.MlaDecodeParams;
import io.latentserve.cuda.kernels.MlaDecodeTcParams;
import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MlaShape;

import java.util.List;

/**
 * MLA attention in the absorbed form (MODEL_SPEC 3.3), which {@link CudaAttention} gives decode tokens and short
 * chunks after a cached prefix ({@link io.latentserve.model.backend.MlaMode#absorbs}): q̂ = W_UKᵀ q_nope
 * (ls_mla_absorb), attention over the latent cache rows, o = W_UV ô (ls_mla_apply_uv). Each row attends to the
 * keys up to its own position through ls_mla_decode + ls_mla_combine, split over the keys by an
 * {@link MlaDecodePlan} (ls_mla_decode_tc, on tensor cores, in place of ls_mla_decode over a bf16 cache of a
 * shape it takes: {@link MlaDecodeTc}; or its bulk-copy variant ls_mla_decode_tma on Hopper with
 * {@link #mlaDecodeBulk}); shapes neither kernel takes go through ls_attention. Rows of one chunk read their
 * sequence's keys each (from L2 mostly): what bounds {@link io.latentserve.model.backend.MlaMode#AUTO_ABSORBED_MAX_TOKENS}.
 */
final class CudaMlaAbsorbed {
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

    private final Kernels kernels;
    private final StepMemory memory;
    private final int smCount;
    /** Dynamic shared memory a block may opt into on this GPU (ls_mla_decode's pipeline needs ~108 KiB). */
    private final int sharedOptIn;
    /** The last decode plan and what it was made for: every layer of a forward pass sees the same batch. */
    private AttentionBatch planBatch;
    private List<Integer> planSeqs;
    private int planHeads;
    private int planTile;
    private MlaDecodePlan plan;
    /** The kernel of the last absorbed decode call (null before the first): tests check the routing. */
    private String lastDecodeKernel;

    CudaMlaAbsorbed(Kernels kernels, StepMemory memory) {
        this.kernels = kernels;
        this.memory = memory;
        this.smCount = Math.max(1, kernels.ctx().device().multiprocessors());
        this.sharedOptIn = kernels.ctx().device().sharedMemoryPerBlockOptin();
    }

    /** The kernel the last absorbed decode call ran (ls_mla_decode_tc, ls_mla_decode_tma, ...; null before any). */
    String lastDecodeKernel() {
        return lastDecodeKernel;
    }

    /**
     * q̂ = W_UKᵀ q_nope per head, attention over the latent rows of the paged cache (f32 or bf16, read as it is
     * stored), o = W_UV ô.
     */
    void attend(CudaActivation q, CudaKvCache cache, int layerIndex, CudaWeight kvB, MlaShape sh, AttentionBatch batch,
                PagedBatch paged, List<Integer> seqs, CudaActivation out) {
        long layer = cache.layer(layerIndex);
        int width = cache.width();
        int shared = KernelLimits.mlaDecodeSharedBytes(sh.kvLoraRank(), sh.qkRopeHeadDim(), cache.elementBytes());
        int[] tokenRows = AttentionRows.tokensOf(batch, seqs);
        int n = tokenRows.length;
        int h = sh.numHeads();
        int r = sh.kvLoraRank();
        int dr = sh.qkRopeHeadDim();
        boolean tensorCores = MLA_DECODE && MLA_DECODE_TC && cache.dtype() == KvCacheDtype.BF16
                && MlaDecodeTc.supports(h, r, dr, sharedOptIn);
        boolean decode = tensorCores || MLA_DECODE && r <= KernelLimits.MLA_MAX_R && r + dr <= KernelLimits.MLA_MAX_QK
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
                long positions = s.ints(AttentionRows.gather(batch.positions(), tokenRows));
                long seqOf = s.ints(AttentionRows.gather(paged.seqOf(), tokenRows));
                kernels.launch(new AttentionParams(qa, layer, 0, layer, oLatent, 0, positions, seqOf, tables, 0,
                        n, h, h, r + dr, 0, r, h * (r + dr), r + dr, width, 0, 0, 0, width, 0, h * r, r,
                        batch.blockSize(), paged.maxBlocks(), sh.softmaxScale(), cache.kernelDtype()),
                        Kernels.attentionGrid(n, h, r + dr, 0, r));
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
}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.driver.DeviceInfo;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.MoeCombineParams;
import io.latentserve.cuda.kernels.MoeDownParams;
import io.latentserve.cuda.kernels.MoeDownTcParams;
import io.latentserve.cuda.kernels.MoeDownWgmmaParams;
import io.latentserve.cuda.kernels.MoeGateUpParams;
import io.latentserve.cuda.kernels.MoeGateUpTcParams;
import io.latentserve.cuda.kernels.MoeGateUpWgmmaParams;
import io.latentserve.cuda.kernels.MoeSortParams;

/**
 * The routed experts of a decode-sized batch in four launches, all on the device: ls_moe_sort regroups the
 * routing by expert, ls_moe_gate_up and ls_moe_down read each touched expert's weights once for all its
 * tokens (blocks of untouched experts exit before reading anything: decode is bound by the bytes of the
 * touched experts), ls_moe_combine adds the weighted outputs in ascending expert id, as the CPU backend.
 * The grids cover every expert, so the host never needs the per-expert counts. The expert products run on
 * tensor cores (ls_moe_gate_up_tc, ls_moe_down_tc) or CUDA cores (ls_moe_gate_up, ls_moe_down); the same
 * sorted layout either way, so sort and combine are shared. {@link #tensorCores} is the one place that chooses.
 */
final class CudaFusedMoe {
    /**
     * Largest batch taken by the fused kernels (not measured; the reasoning): they keep 8 (CUDA cores) or 32
     * (tensor cores) rows of an expert in registers, walking the expert's weight tile again (from L2) for each
     * further such group, so their cost grows with tokens per expert, while the cuBLAS path pays per-expert launches
     * and a host round trip (fixed costs that only amortize over many rows). At 256 tokens, top-6 of 64
     * experts averages 24 rows per expert: still a few passes, and the largest decode batch the scheduler
     * is expected to form; prefill chunks above it are compute bound and stay on tensor-core GEMMs.
     */
    static final int MAX_TOKENS = 256;

    /**
     * Whether the tensor-core kernels may run at all (-Dlatentserve.cuda.moeTensorCores=false forces the CUDA-core
     * ones everywhere, for A/B benchmarks of the fused path).
     */
    static final boolean TENSOR_CORES = Boolean.parseBoolean(System.getProperty("latentserve.cuda.moeTensorCores",
            "true"));

    /**
     * Whether AUTO gives batches above the fused threshold to the Hopper kernels (ls_moe_gate_up_wgmma /
     * ls_moe_down_wgmma) instead of grouped cuBLAS where they apply (-Dlatentserve.cuda.moeWgmma, default false:
     * which is faster at prefill sizes is a GPU measurement nobody has made yet; DeviceBench's "prefill MoE"
     * rows put the two side by side).
     */
    static final boolean WGMMA = Boolean.parseBoolean(System.getProperty("latentserve.cuda.moeWgmma", "false"));

    /**
     * Whether the wgmma kernels take their weight tiles by TMA (the table's tensor maps) rather than cp.async
     * (-Dlatentserve.cuda.moeWgmmaTma, default true: the Hopper way; false for A/B runs on a GPU).
     */
    static final boolean WGMMA_TMA = !"false".equals(System.getProperty("latentserve.cuda.moeWgmmaTma"));

    private final Kernels kernels;
    private final StepMemory memory;
    private boolean wgmmaTma = WGMMA_TMA;
    private boolean lastWgmmaTma;

    CudaFusedMoe(Kernels kernels, StepMemory memory) {
        this.kernels = kernels;
        this.memory = memory;
    }

    /** Whether the wgmma kernels take weight tiles by TMA where the table has maps (tests switch it per instance). */
    void wgmmaTma(boolean on) {
        wgmmaTma = on;
    }

    /** Whether the last wgmma launch took its weight tiles by TMA. */
    boolean lastWgmmaTma() {
        return lastWgmmaTma;
    }

    /** Whether ls_moe_gate_up_tc / ls_moe_down_tc take these experts: bf16 weights, widths multiples of 16. */
    static boolean tensorCoresApply(CudaExpertTables.Table t) {
        return t.dtype() == KernelLimits.DTYPE_BF16 && t.hidden() % KernelLimits.MOE_TC_K == 0
                && t.inter() % KernelLimits.MOE_TC_K == 0;
    }

    /**
     * Whether ls_moe_gate_up_wgmma / ls_moe_down_wgmma take these experts on this device: compute capability 9.0
     * exactly (their code is sm_90a, which runs nowhere else; elsewhere the fatbin's copies trap), the block's
     * {@link KernelLimits#MOE_WG_SMEM} bytes of shared memory within the device's opt-in limit, what the
     * tensor-core kernels take (bf16, widths multiples of 16), and at most {@link KernelLimits#MOE_WG_MAX_EXPERTS}
     * experts (the kernels' tile list).
     */
    static boolean wgmmaApplies(CudaExpertTables.Table t, DeviceInfo device) {
        return device.computeMajor() == 9 && device.computeMinor() == 0
                && device.sharedMemoryPerBlockOptin() >= KernelLimits.MOE_WG_SMEM && tensorCoresApply(t)
                && t.entries() <= KernelLimits.MOE_WG_MAX_EXPERTS;
    }

    /**
     * The fused path's kernel choice (AUTO): tensor cores whenever they apply and are not turned off, at every
     * batch size. Why not CUDA cores for the smallest batches: with one token
     * both kernel pairs are bound by the same weight bytes (each read once, 16-byte loads, a slice's loads in
     * flight before use), and the tensor-core ones take an 8-token m-tile for the same mma count as one token,
     * so nothing is expected from switching below some size; no GPU run has measured it yet (MoeDecodeBench's
     * fused and fused-tc rows will). Should one show the CUDA-core kernels ahead at 1 token, the cut belongs here.
     */
    static boolean tensorCores(CudaExpertTables.Table t) {
        return TENSOR_CORES && tensorCoresApply(t);
    }

    /**
     * out += Σ_k w_k · expert_k(x) for the routing on the device (experts [T, K] int32, weights [T, K] f32,
     * ids in [0, E), distinct per token), scratch from s; the expert products as {@code path} says: FUSED_TC
     * (the caller checked {@link #tensorCoresApply}), FUSED_WGMMA ({@link #wgmmaApplies}), else FUSED. When the table has
     * shared slices ({@link CudaExpertTables.Table#numShared} S), out += Shared(x) too, in the same launches: ls_moe_sort
     * gives every token the S slices with weight 1 as well (K + S rows per token), ls_moe_combine adds them first.
     * {@code split} (the matmul precision's {@link Gemm#splits}) gives the wgmma products both bf16 terms of each
     * activation (hi + lo, within ~1e-5 of f32, as the other tensor-core paths) or only its rounding (medium:
     * half the products); the decode-sized kernels always keep f32 accuracy (they are bound by weight bytes).
     */
    void run(StepMemory.Scratch s, CudaActivation x, long experts, long weights, int topK, CudaExpertTables.Table t,
             CudaMoePath path, boolean split, CudaActivation out) {
        int tokens = x.rows();
        int slots = topK + t.numShared();              // rows per token: its routed experts and the shared slices
        int rows = tokens * slots;
        int e = t.entries();
        if (rows == 0) {
            return;
        }
        long offsets = s.bytes(4L * (e + 1));          // [E + S + 1] int32
        long rowToken = s.bytes(4L * rows);            // [T·(K + S)] int32
        long pairRows = s.bytes(4L * rows);            // [T, S + K] int32: shared slices, then ascending expert id
        long pairWeights = s.floats(rows);             // [T, S + K] f32, same order (1 for the shared slices)
        kernels.launch(new MoeSortParams(experts, weights, offsets, rowToken, pairRows, pairWeights, tokens, topK,
                t.numExperts(), t.numShared()), Grid.of(1, KernelLimits.THREADS));
        long y = s.floats((long) rows * t.hidden());   // [T·(K + S), D] f32: expert outputs, rows by expert
        // [T·(K + S), I] f32: silu(gate x) * (up x), rows by expert (the wgmma kernels keep h as bf16 terms instead)
        long h = path == CudaMoePath.FUSED_WGMMA ? 0 : s.floats((long) rows * t.inter());
        if (path == CudaMoePath.FUSED_WGMMA) {
            launchWgmma(s, x, offsets, rowToken, rows, t, split ? 2 : 1, y);
        } else if (path == CudaMoePath.FUSED_TC) {
            kernels.launch(new MoeGateUpTcParams(x.address(), t.gate(), t.up(), offsets, rowToken, h, e, t.hidden(),
                    t.inter(), x.stride(), t.inter()),
                    Grid.of(e, KernelLimits.blocks(t.inter(), KernelLimits.MOE_TC_FEATURES), KernelLimits.THREADS));
            kernels.launch(new MoeDownTcParams(h, t.down(), t.downStrides(), offsets, y, e, t.hidden(), t.inter(),
                    t.inter(), t.hidden()),
                    Grid.of(e, KernelLimits.blocks(t.hidden(), KernelLimits.MOE_TC_FEATURES), KernelLimits.THREADS));
        } else {
            kernels.launch(new MoeGateUpParams(x.address(), t.gate(), t.up(), offsets, rowToken, h, e, t.hidden(),
                    t.inter(), x.stride(), t.inter(), t.dtype()),
                    Grid.of(e, KernelLimits.blocks(t.inter(), KernelLimits.MOE_GATE_UP_ROWS), KernelLimits.THREADS));
            kernels.launch(new MoeDownParams(h, t.down(), t.downStrides(), offsets, y, e, t.hidden(), t.inter(),
                    t.inter(), t.hidden(), t.dtype()),
                    Grid.of(e, KernelLimits.blocks(t.hidden(), KernelLimits.MOE_DOWN_ROWS), KernelLimits.THREADS));
        }
        kernels.launch(new MoeCombineParams(y, pairRows, pairWeights, out.address(), tokens, t.hidden(), slots,
                out.stride()), Kernels.rowsByCols(tokens, t.hidden()));
    }

    /**
     * The Hopper expert products: x split once into its bf16 terms (every token, before the gather: each token's row
     * serves its K + S expert rows), gate/up writing h as bf16 terms, down reading them. Persistent grids: a block per
     * SM (one fits), or fewer when an upper bound on the work items (each expert adds at most one partial m-tile) is
     * smaller; the kernels count the items themselves from the offsets, so no per-expert count comes to the host.
     */
    private void launchWgmma(StepMemory.Scratch s, CudaActivation x, long offsets, long rowToken, int rows,
                             CudaExpertTables.Table t, int terms, long y) {
        int tokens = x.rows();
        int e = t.entries();
        long xSplit = kernels.splitBf16(s, x.address(), tokens, t.hidden(), x.stride(), terms == 2);
        long hHi = s.bytes(2L * terms * rows * t.inter());   // [(1|2)·T·(K + S), I] bf16: hi rows, then lo rows
        long hLo = terms == 2 ? hHi + 2L * rows * t.inter() : 0;
        long mTiles = KernelLimits.blocks(rows, KernelLimits.MOE_WG_ROWS) + (long) e;
        int sms = kernels.ctx().device().multiprocessors();
        long maps = wgmmaTma ? t.weightMaps() : 0;
        lastWgmmaTma = maps != 0;
        kernels.launch(new MoeGateUpWgmmaParams(xSplit, terms == 2 ? xSplit + 2L * tokens * t.hidden() : 0, t.gate(),
                t.up(), offsets, rowToken, hHi, hLo, maps, e, t.hidden(), t.inter(), t.hidden(), t.inter(), terms),
                persistentGrid(mTiles * KernelLimits.blocks(t.inter(), KernelLimits.MOE_WG_GATE_UP_FEATURES), sms));
        kernels.launch(new MoeDownWgmmaParams(hHi, hLo, t.down(), t.downStrides(), offsets, y, maps, e, t.hidden(),
                t.inter(), t.inter(), t.hidden(), terms),
                persistentGrid(mTiles * KernelLimits.blocks(t.hidden(), KernelLimits.MOE_WG_DOWN_FEATURES), sms));
    }

    private static Grid persistentGrid(long workItems, int sms) {
        return Grid.of((int) Math.min(workItems, sms), KernelLimits.MOE_WG_THREADS).withShared(KernelLimits.MOE_WG_SMEM);
    }
}

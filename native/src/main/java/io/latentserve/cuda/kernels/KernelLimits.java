package io.latentserve.cuda.kernels;

/**
 * The #define constants of latentserve_params.h, mirrored (KernelParamsLayoutTest checks each against the
 * header): data type codes, launch sizes, and the few real limits of the kernels. LS_MLA_LATENT and
 * LS_MLA_ROPE are DeepSeek-V2's sizes, not limits: the kernels take every model dimension as a parameter.
 */
public final class KernelLimits {
    public static final int DTYPE_F32 = 0;
    public static final int DTYPE_BF16 = 1;

    /** Threads of the element-wise and row kernels. */
    public static final int THREADS = 256;
    /** Warps of an attention block. */
    public static final int ATTN_WARPS = 8;
    public static final int ATTN_MAX_V_PER_LANE = 16;
    /** Largest value width (dv, or kv_lora_rank in the absorbed MLA form) ls_attention keeps in registers. */
    public static final int ATTN_MAX_DV = 512;
    /** Largest query width (d1 + d2) ls_attention keeps in shared memory. */
    public static final int ATTN_MAX_QK = 2048;
    public static final int MOE_MAX_EXPERTS = 1024;
    public static final int SAMPLE_THREADS = 1024;
    /**
     * ls_sample's candidate list: entries per thread the server launches with (16 bytes each, 96 KiB at 1024
     * threads: under every supported GPU's shared memory opt-in), and the list holds the best
     * SAMPLE_THREADS * entries / SAMPLE_LIST_SPARSITY tokens of a row.
     */
    public static final int SAMPLE_LIST_PER_THREAD = 6;
    public static final int SAMPLE_LIST_SPARSITY = 6;
    /** ls_logit_edits: a bias at or below this bans the token (-inf): LogitEdits.BAN. */
    public static final int LOGIT_BAN = -100;
    public static final int ROPE_THREADS = 64;
    /** ls_gemv: most activation rows per launch, output features per block (one warp each). */
    public static final int GEMV_MAX_ROWS = 8;
    public static final int GEMV_FEATURES = 8;
    /** ls_mla_decode: warps of a block, heads per warp, latent rows per shared-memory tile. */
    public static final int MLA_DECODE_WARPS = 8;
    public static final int MLA_HEADS_PER_WARP = 2;
    public static final int MLA_TILE = 16;
    /** ls_mla_decode: tile buffers of its cp.async pipeline (STAGES - 1 tiles in flight while one is computed). */
    public static final int MLA_STAGES = 3;
    /** Largest kv_lora_rank, and kv_lora_rank + rope dim, ls_mla_decode keeps in registers. */
    public static final int MLA_MAX_R = 512;
    public static final int MLA_MAX_QK = 576;
    /**
     * ls_mla_decode_tc: warps of a block, heads a block serves (the M of its mma products), cache rows per tile,
     * tile buffers of its cp.async ring, warps splitting the r + dr dims of Q.K^T. Shapes and launch: MlaDecodeTc.
     */
    public static final int MLA_TC_WARPS = 8;
    public static final int MLA_TC_HEADS = 16;
    public static final int MLA_TC_TILE = 32;
    public static final int MLA_TC_STAGES = 4;
    public static final int MLA_TC_KSPLIT = 4;
    /**
     * ls_mla_prefill_tc: warps of a block (16 query rows each), queries of a block, keys per shared tile, tile
     * buffers of its cp.async ring, and the largest dn + dr and dv (multiples of 16) it keeps in registers.
     * Shapes and launch: MlaPrefillTc.
     */
    public static final int MLA_PF_WARPS = 4;
    public static final int MLA_PF_QUERIES = 64;
    public static final int MLA_PF_KEYS = 32;
    public static final int MLA_PF_STAGES = 2;
    public static final int MLA_PF_MAX_QK = 192;
    public static final int MLA_PF_MAX_DV = 128;
    /** Most splits of one row ls_mla_combine merges. */
    public static final int MLA_MAX_SPLITS = 128;
    /** Output rows of one ls_moe_gate_up block (grid y = ceil(inter / this)) and of one ls_moe_down block. */
    public static final int MOE_GATE_UP_ROWS = 16;
    public static final int MOE_DOWN_ROWS = 32;
    /** Output features of one ls_moe_gate_up_tc / ls_moe_down_tc block (8 warps x an mma n-tile of 8). */
    public static final int MOE_TC_FEATURES = 64;
    /** The tensor-core MoE kernels' input widths (hidden, inter) are multiples of this (the mma's k). */
    public static final int MOE_TC_K = 16;
    /**
     * ls_moe_gate_up_wgmma / ls_moe_down_wgmma (Hopper wgmma, sm_90a; a persistent grid, its blocks taking the work
     * items in turn): threads of a block (a producer warpgroup and two consumer warpgroups), gathered rows of one
     * expert per work item, output features per work item, input values per pipeline stage, dynamic shared memory
     * bytes (192 KiB of stages, their barriers, 1 KiB of alignment), most experts (table entries) of one call.
     */
    public static final int MOE_WG_THREADS = 384;
    public static final int MOE_WG_ROWS = 128;
    public static final int MOE_WG_GATE_UP_FEATURES = 128;
    public static final int MOE_WG_DOWN_FEATURES = 256;
    public static final int MOE_WG_KC = 64;
    public static final int MOE_WG_SMEM = 197696;
    public static final int MOE_WG_MAX_EXPERTS = 512;
    /** Bytes of one CUtensorMap (cuTensorMapEncodeTiled), which lives on a 64-byte boundary. */
    public static final int TENSOR_MAP_BYTES = 128;

    public static final int MLA_LATENT = 512;
    public static final int MLA_ROPE = 64;

    public static final int ROPE_INTERLEAVED = 0;
    public static final int ROPE_SPLIT_HALF = 1;

    private KernelLimits() {
    }

    /** Dynamic shared memory of one ls_attention block. */
    public static int attentionSharedBytes(int d1, int d2, int dv) {
        return 4 * (d1 + d2 + ATTN_WARPS * (dv + 2));
    }

    /** Heads one ls_mla_decode block serves. */
    public static int mlaHeadsPerBlock() {
        return MLA_DECODE_WARPS * MLA_HEADS_PER_WARP;
    }

    /**
     * Dynamic shared memory of one ls_mla_decode block over an f32 cache: MLA_STAGES tiles of latent rows
     * (r + dr floats each, padded to a multiple of 4),
     * 110,592 bytes at DeepSeek's 512 + 64: above the 48 KiB default, so the launch opts in (KernelModule).
     */
    public static int mlaDecodeSharedBytes(int r, int dr) {
        return mlaDecodeSharedBytes(r, dr, 4);
    }

    /**
     * As {@link #mlaDecodeSharedBytes(int, int)} for a cache of bytesPerValue (4 f32, 2 bf16): the tiles keep the
     * cache's type, rows padded to 16 bytes (55,296 bytes for a bf16 cache at 512 + 64).
     */
    public static int mlaDecodeSharedBytes(int r, int dr, int bytesPerValue) {
        if (bytesPerValue != 4 && bytesPerValue != 2) {
            throw new IllegalArgumentException("ls_mla_decode reads f32 or bf16 caches, not " + bytesPerValue + "-byte values");
        }
        return MLA_STAGES * MLA_TILE * ((bytesPerValue * (r + dr) + 15) & ~15);
    }

    /**
     * Dynamic shared memory of one ls_mla_decode_tc block: the partial scores of the KSPLIT dim slices (rows of
     * TILE + 8 floats), P as hi/lo A fragments, the heads' correction factors and final (m, l), then MLA_TC_STAGES
     * tiles of bf16 cache rows padded by 8 values (ldmatrix without bank conflicts), then one 8-byte mbarrier per
     * stage (used by the bulk-copy variant ls_mla_decode_tma, same layout for both): 162,016 bytes at 512 + 64,
     * above the 48 KiB default, so the launch opts in (KernelModule). Only for shapes MlaDecodeTc supports.
     */
    public static int mlaDecodeTcSharedBytes(int r, int dr) {
        int scores = 4 * MLA_TC_KSPLIT * MLA_TC_HEADS * (MLA_TC_TILE + 8);
        int pFragments = 16 * 2 * 32 * (MLA_TC_TILE / 16);
        int perHead = 12 * MLA_TC_HEADS;
        int stageBarriers = 8 * MLA_TC_STAGES;
        return scores + pFragments + perHead + 2 * MLA_TC_STAGES * MLA_TC_TILE * (r + dr + 8) + stageBarriers;
    }

    /**
     * Dynamic shared memory of one ls_mla_prefill_tc block: MLA_PF_STAGES tiles of MLA_PF_KEYS keys, each key a K
     * row (dn + dr bf16) and a V row (dv bf16), both padded by 8 values (ldmatrix without bank conflicts), hi and
     * (terms 3) lo halves; with terms 3 also the lo halves of the block's Q rows (MLA_PF_QUERIES x (dn + dr + 8)
     * bf16): 111,616 bytes at 128 + 64 / 128 with terms 3 (two blocks per SM on Hopper), 43,008 with terms 1.
     */
    public static int mlaPrefillTcSharedBytes(int qk, int dv, int terms) {
        int halves = terms == 1 ? 1 : 2;
        int ring = 2 * MLA_PF_STAGES * halves * MLA_PF_KEYS * (qk + 8 + dv + 8);
        return ring + (terms == 1 ? 0 : 2 * MLA_PF_QUERIES * (qk + 8));
    }

    /** Dynamic shared memory of one ls_moe_route block (scores, group maxima, flags), rounded to 16. */
    public static int routeSharedBytes(int numExperts, int numGroups) {
        int bytes = 4 * numExperts + 4 * numGroups + numExperts + numGroups;
        return (bytes + 15) & ~15;
    }

    /** Blocks needed to cover n items with `per` items a block. */
    public static int blocks(long n, int per) {
        return Math.toIntExact((n + per - 1) / per);
    }

    /** Dynamic shared memory of an ls_sample launch whose list holds perThread entries per thread. */
    public static int sampleSharedBytes(int perThread) {
        if (perThread < 0) {
            throw new IllegalArgumentException("list of " + perThread + " entries per thread");
        }
        return 16 * SAMPLE_THREADS * perThread;
    }
}

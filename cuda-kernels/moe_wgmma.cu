/*
 * Hopper warpgroup forms of the MoE expert products (ls_moe_gate_up_wgmma, ls_moe_down_wgmma): the sorted layout
 * (ls_moe_sort, shared experts folded in) and down strides of ls_moe_gate_up / ls_moe_down (moe.cu), for
 * prefill-sized batches where each expert has hundreds of rows. The activations come as bf16 terms made once per
 * call (x by ls_split_bf16; h by the gate/up epilogue), so every tile is a plain copy of bf16 rows and the
 * tensor cores read both operands from shared memory.
 *
 * A block is three warpgroups (warp specialisation, as Hopper GEMMs are built):
 *   warpgroup 0, the producer (setmaxnreg down to 40 registers): copies the tiles of each K stage with cp.async,
 *     16 bytes per copy into the 128-byte swizzle layout of ls_hopper.cuh (rows of 64 values; the XOR spreads a
 *     warp's 16-byte stores over all banks), and signals the stage's "full" mbarrier once its copies have landed
 *     (cp.async.wait_group, then fence.proxy.async: ordinary writes made visible to the async proxy wgmma reads
 *     through). Thread p copies A row p (hi, lo) and B rows p and p + 128.
 *   warpgroups 1 and 2, the consumers (setmaxnreg up to 232): rows 0-63 and 64-127 of the tile against all 256 B
 *     rows, 4 wgmma m64n256k16 per stage and activation term (128 f32 accumulators per thread); after issuing stage
 *     c they wait for the wgmma of stage c-1 (wait_group 1) and arrive on its "empty" mbarrier, which the producer
 *     waits for before refilling that buffer.
 * A stage holds the A tile (128 rows x 64 values, 16 KiB; a second 16 KiB for the lo terms) and the B tile
 * (256 rows, 32 KiB): 3 stages with both terms, 4 with one, 192 KiB either way. Values past K are zeros in A and B
 * (no branch among the wgmma). Rows past the tile's count repeat its last row, and B rows past the output width
 * the last feature: every loaded value is a real one, and the extra outputs are dropped.
 *
 * Tile of a block: blockIdx.x the output features (gate/up: 128 features of gate and the same 128 of up as one B
 * tile of 256 rows, columns 0-127 gate, 128-255 up, so SiLU(gate)·up is local to each thread's accumulators:
 * column c and c + 128 are registers 4j + i and 4(j + 16) + i of one thread; down: 256 features of its output),
 * blockIdx.y the m-tiles of all experts, expert after expert (ceil(rows / 128) each, found by the block from
 * offsets, no host round trip). Blocks of one m-tile are adjacent in launch order, so its A rows are read from
 * L2 by all of its feature tiles. Deterministic, no atomics: each output element is written by one thread.
 *
 * Not yet done (unmeasured): TMA for the weight tiles (tensor maps per expert), a persistent grid overlapping one
 * tile's epilogue with the next tile's loads.
 */
#include "include/ls_common.cuh"
#include "include/ls_hopper.cuh"
#ifdef __CUDACC__
#include <cuda_pipeline_primitives.h> /* cp.async (emu.h has synchronous stand-ins) */
#endif

#define LS_MOE_WG_N 256                                         /* the wgmma's N: B rows of a tile */
#define LS_MOE_WG_A_BYTES (LS_MOE_WG_ROWS * LS_MOE_WG_KC * 2)   /* one bf16 A term of a stage: 16 KiB */
#define LS_MOE_WG_B_BYTES (LS_MOE_WG_N * LS_MOE_WG_KC * 2)      /* B of a stage: 32 KiB */
#define LS_MOE_WG_RING_BYTES (192 * 1024)                       /* the stages: 3 x 64 KiB or 4 x 48 KiB */
#define LS_MOE_WG_MAX_STAGES 4
#define LS_MOE_WG_CONSUMERS 2

static_assert(LS_MOE_WG_THREADS == (1 + LS_MOE_WG_CONSUMERS) * 128, "a producer and two consumer warpgroups");
static_assert(LS_MOE_WG_ROWS == 64 * LS_MOE_WG_CONSUMERS, "64 rows (the wgmma's M) per consumer");
static_assert(LS_MOE_WG_KC == 64, "a stage row is one 128-byte swizzled row");
static_assert(3 * (2 * LS_MOE_WG_A_BYTES + LS_MOE_WG_B_BYTES) == LS_MOE_WG_RING_BYTES
              && 4 * (LS_MOE_WG_A_BYTES + LS_MOE_WG_B_BYTES) == LS_MOE_WG_RING_BYTES, "3 or 4 stages fill the ring");
static_assert(LS_MOE_WG_RING_BYTES + 2 * LS_MOE_WG_MAX_STAGES * 8 + 1024 == LS_MOE_WG_SMEM,
              "the launch's dynamic shared memory: stages, barriers, alignment");
static_assert(2 * LS_MOE_WG_GATE_UP_FEATURES == LS_MOE_WG_N && LS_MOE_WG_DOWN_FEATURES == LS_MOE_WG_N, "N of 256");

#if LS_HAS_WGMMA /* the helpers exist for the sm_90a code (and the emulation) only */

/*
 * The m-tile of this block (blockIdx.y): experts' tiles numbered expert after expert. Each thread counts the tiles
 * of a contiguous range of experts, the block adds the counts before it, and the thread whose range holds the tile
 * names it. Returns false (the whole block) when blockIdx.y is past the last tile.
 */
__device__ __forceinline__ bool ls_moe_wg_find_tile(const int* offsets, int numExperts, int& expert, int& tile) {
    __shared__ int partial[LS_MOE_WG_THREADS];
    __shared__ int found[2];
    const int t = threadIdx.x;
    const int per = (numExperts + LS_MOE_WG_THREADS - 1) / LS_MOE_WG_THREADS;
    const int e0 = min(t * per, numExperts);
    const int e1 = min(e0 + per, numExperts);
    int mine = 0;
    for (int e = e0; e < e1; e++) {
        mine += (offsets[e + 1] - offsets[e] + LS_MOE_WG_ROWS - 1) / LS_MOE_WG_ROWS;
    }
    partial[t] = mine;
    if (t == 0) {
        found[0] = -1;
    }
    __syncthreads();
    int before = 0;
    for (int i = 0; i < t; i++) {
        before += partial[i];
    }
    const int b = static_cast<int>(blockIdx.y);
    if (b >= before && b < before + mine) {
        int at = before;
        for (int e = e0; e < e1; e++) {
            const int tiles = (offsets[e + 1] - offsets[e] + LS_MOE_WG_ROWS - 1) / LS_MOE_WG_ROWS;
            if (b < at + tiles) {
                found[0] = e;
                found[1] = b - at;
                break;
            }
            at += tiles;
        }
    }
    __syncthreads();
    expert = found[0];
    tile = found[1];
    return expert >= 0;
}

/* The block's stage ring (1024-byte aligned for the swizzle) and its barriers: full[s] (the producer's 128 threads
 * arrive when stage s has landed) and empty[s] (the consumers' 256 threads arrive when their wgmma of stage s are
 * done), initialised here; every thread passes the barrier at the end. */
struct LsMoeWgRing {
    unsigned char* stages;
    unsigned long long* full;
    unsigned long long* empty;
};

__device__ __forceinline__ LsMoeWgRing ls_moe_wg_ring() {
    extern __shared__ __align__(16) float smem[]; /* the name and type every kernel file uses (emulate/run.sh) */
    unsigned char* dynamic = reinterpret_cast<unsigned char*>(smem);
    const unsigned base = static_cast<unsigned>(__cvta_generic_to_shared(dynamic));
    LsMoeWgRing ring;
    ring.stages = dynamic + ((1024u - base % 1024u) % 1024u);
    ring.full = reinterpret_cast<unsigned long long*>(ring.stages + LS_MOE_WG_RING_BYTES);
    ring.empty = ring.full + LS_MOE_WG_MAX_STAGES;
    if (threadIdx.x == 0) {
        for (int s = 0; s < LS_MOE_WG_MAX_STAGES; s++) {
            ls_mbarrier_init(&ring.full[s], 128);
            ls_mbarrier_init(&ring.empty[s], 128 * LS_MOE_WG_CONSUMERS);
        }
        ls_fence_mbarrier_init();
    }
    __syncthreads();
    return ring;
}

/* One 64-value row of stage chunk k0 (row r of a tile at `tile`): 8 cp.async of 16 bytes into the swizzled
 * chunks; chunks at or past K are zeros (ordinary stores, fenced with the copies). Not unrolled: ptxas allocates
 * the producer's code within its setmaxnreg budget of 40 registers, and the unrolled form needs more (spills). */
__device__ __forceinline__ void ls_moe_wg_copy_row(unsigned char* tile, int r, const unsigned short* src, int k0, int K) {
#pragma unroll 1
    for (int j = 0; j < LS_MOE_WG_KC / 8; j++) {
        unsigned char* dst = tile + ls_sw128_chunk(r, j);
        if (k0 + 8 * j < K) {
            __pipeline_memcpy_async(dst, src + k0 + 8 * j, 16);
        } else {
            *reinterpret_cast<uint4*>(dst) = make_uint4(0u, 0u, 0u, 0u);
        }
    }
}

/*
 * The producer warpgroup (thread p = threadIdx.x < 128): A row p (aHi, aLo: its bf16 terms) and B rows p (b0) and
 * p + 128 (b1), K values each, stage after stage. Stage c's copies are committed as one group; once stage c-1's
 * group has landed (wait_prior 1: c stays in flight), the thread fences and arrives on full[c-1]. Before refilling
 * buffer s it waits for empty[s] of the previous use.
 */
template <int TERMS, int STAGES>
__device__ __forceinline__ void ls_moe_wg_produce(const LsMoeWgRing& ring, const unsigned short* aHi,
                                                  const unsigned short* aLo, const unsigned short* b0,
                                                  const unsigned short* b1, int K) {
    constexpr int stageBytes = TERMS * LS_MOE_WG_A_BYTES + LS_MOE_WG_B_BYTES;
    static_assert(STAGES * stageBytes == LS_MOE_WG_RING_BYTES && STAGES <= LS_MOE_WG_MAX_STAGES, "the ring");
    const int p = threadIdx.x;
    const int chunks = (K + LS_MOE_WG_KC - 1) / LS_MOE_WG_KC;
    for (int c = 0; c < chunks; c++) {
        const int s = c % STAGES;
        if (c >= STAGES) {
            ls_mbarrier_wait_parity(&ring.empty[s], (c / STAGES - 1) & 1);
        }
        unsigned char* stage = ring.stages + s * stageBytes;
        const int k0 = c * LS_MOE_WG_KC;
        ls_moe_wg_copy_row(stage, p, aHi, k0, K);
        if (TERMS == 2) {
            ls_moe_wg_copy_row(stage + LS_MOE_WG_A_BYTES, p, aLo, k0, K);
        }
        unsigned char* b = stage + TERMS * LS_MOE_WG_A_BYTES;
        ls_moe_wg_copy_row(b, p, b0, k0, K);
        ls_moe_wg_copy_row(b, p + 128, b1, k0, K);
        __pipeline_commit();
        if (c > 0) {
            __pipeline_wait_prior(1);
            ls_fence_proxy_async_shared();
            ls_mbarrier_arrive(&ring.full[(c - 1) % STAGES]);
        }
    }
    __pipeline_wait_prior(0);
    ls_fence_proxy_async_shared();
    ls_mbarrier_arrive(&ring.full[(chunks - 1) % STAGES]);
}

/*
 * A consumer warpgroup (half 0 or 1: tile rows 64·half ..): acc = its 64 rows x 256 B rows over K. Per stage:
 * wait for full, 4 k-slices x TERMS wgmma, commit; then wait for the previous stage's group and release its
 * buffer (empty). Unrolled with TERMS a constant: no branch among the wgmma (else ptxas injects warpgroup.arrive).
 */
template <int TERMS, int STAGES>
__device__ __forceinline__ void ls_moe_wg_consume(const LsMoeWgRing& ring, int half, int K, float (&acc)[128]) {
    constexpr int stageBytes = TERMS * LS_MOE_WG_A_BYTES + LS_MOE_WG_B_BYTES;
    const int chunks = (K + LS_MOE_WG_KC - 1) / LS_MOE_WG_KC;
#pragma unroll
    for (int i = 0; i < 128; i++) {
        acc[i] = 0.0f;
    }
    for (int c = 0; c < chunks; c++) {
        const int s = c % STAGES;
        ls_mbarrier_wait_parity(&ring.full[s], (c / STAGES) & 1);
        const unsigned char* stage = ring.stages + s * stageBytes;
        const unsigned char* a = stage + half * (LS_MOE_WG_A_BYTES / LS_MOE_WG_CONSUMERS);
        const unsigned char* b = stage + TERMS * LS_MOE_WG_A_BYTES;
        ls_wgmma_fence();
#pragma unroll
        for (int k = 0; k < LS_MOE_WG_KC / 16; k++) {
            const unsigned long long db = ls_wgmma_desc_sw128(b + 32 * k);
            ls_wgmma_m64n256k16_bf16(acc, ls_wgmma_desc_sw128(a + 32 * k), db, 1);
            if (TERMS == 2) {
                ls_wgmma_m64n256k16_bf16(acc, ls_wgmma_desc_sw128(a + LS_MOE_WG_A_BYTES + 32 * k), db, 1);
            }
        }
        ls_wgmma_commit();
        ls_wgmma_wait<1>();
        if (c > 0) {
            ls_mbarrier_arrive(&ring.empty[(c - 1) % STAGES]);
        }
    }
    ls_wgmma_wait<0>();
}

/* The row of x (or h) a tile row reads: rows past the tile's count repeat its last row. */
__device__ __forceinline__ long long ls_moe_wg_source_row(const int* rowToken, int first, int cnt, int r) {
    const int row = first + min(r, cnt - 1);
    return rowToken != nullptr ? rowToken[row] : row;
}

#endif /* LS_HAS_WGMMA */

extern "C" __global__ void __launch_bounds__(LS_MOE_WG_THREADS, 1) ls_moe_gate_up_wgmma(const LsMoeGateUpWgmmaParams p) {
#if LS_HAS_WGMMA
    const int* offsets = reinterpret_cast<const int*>(p.offsets);
    int e;
    int tile;
    if (!ls_moe_wg_find_tile(offsets, p.numExperts, e, tile)) {
        return; /* past the last m-tile of this call */
    }
    const int first = offsets[e] + tile * LS_MOE_WG_ROWS;
    const int cnt = min(LS_MOE_WG_ROWS, offsets[e + 1] - first);
    const int f0 = blockIdx.x * LS_MOE_WG_GATE_UP_FEATURES;
    const LsMoeWgRing ring = ls_moe_wg_ring();
    const int role = threadIdx.x / 128;
    if (role == 0) {
        ls_setmaxnreg_dec<40>();
        const int t = threadIdx.x;
        const long long src = ls_moe_wg_source_row(reinterpret_cast<const int*>(p.rowToken), first, cnt, t) * p.xStride;
        const auto* xHi = reinterpret_cast<const unsigned short*>(p.xHi) + src;
        const auto* xLo = reinterpret_cast<const unsigned short*>(p.xLo) + src;
        /* B row t: gate feature f0 + t; row t + 128: up feature f0 + t; past inter, the last feature */
        const long long f = static_cast<long long>(min(f0 + t, p.inter - 1)) * p.hidden;
        const auto* gate = reinterpret_cast<const unsigned short*>(reinterpret_cast<const ls_ptr*>(p.gateTable)[e]) + f;
        const auto* up = reinterpret_cast<const unsigned short*>(reinterpret_cast<const ls_ptr*>(p.upTable)[e]) + f;
        if (p.aTerms == 2) {
            ls_moe_wg_produce<2, 3>(ring, xHi, xLo, gate, up, p.hidden);
        } else {
            ls_moe_wg_produce<1, 4>(ring, xHi, xLo, gate, up, p.hidden);
        }
    } else {
        ls_setmaxnreg_inc<232>();
        float acc[128];
        if (p.aTerms == 2) {
            ls_moe_wg_consume<2, 3>(ring, role - 1, p.hidden, acc);
        } else {
            ls_moe_wg_consume<1, 4>(ring, role - 1, p.hidden, acc);
        }
        /* warp w of the consumer, lane (g, q): rows 64·half + 16w + g (+8), columns 8j + 2q (+1); gate in j < 16,
         * up of the same feature in j + 16. h = silu(gate)·up as the CPU backend (z / (1f + exp(-z)) * up), stored
         * as bf16 terms in pairs of features */
        const int w = (threadIdx.x % 128) / 32;
        const int g = (threadIdx.x % 32) / 4;
        const int q = threadIdx.x % 4;
        auto* hHi = reinterpret_cast<unsigned short*>(p.hHi);
        auto* hLo = reinterpret_cast<unsigned short*>(p.hLo);
#pragma unroll
        for (int j = 0; j < 16; j++) {
#pragma unroll
            for (int r = 0; r < 2; r++) {
                const int row = 64 * (role - 1) + 16 * w + g + 8 * r;
                const int feature = f0 + 8 * j + 2 * q;
                if (row < cnt && feature < p.inter) {
                    float v[2];
#pragma unroll
                    for (int i = 0; i < 2; i++) {
                        const float z = acc[4 * j + 2 * r + i];
                        v[i] = z / (1.0f + ls_exp_f(-z)) * acc[4 * (j + 16) + 2 * r + i];
                    }
                    const long long at = static_cast<long long>(first + row) * p.hStride + feature;
                    const unsigned short h0 = ls_to_bf16(v[0]);
                    const unsigned short h1 = ls_to_bf16(v[1]);
                    /* inter is even (a multiple of 16): feature + 1 is inside the row */
                    *reinterpret_cast<unsigned*>(hHi + at) = static_cast<unsigned>(h0) | (static_cast<unsigned>(h1) << 16);
                    if (p.aTerms == 2) {
                        *reinterpret_cast<unsigned*>(hLo + at) =
                            ls_pack_bf16x2(v[0] - ls_bf16_to_float(h0), v[1] - ls_bf16_to_float(h1));
                    }
                }
            }
        }
    }
#elif defined(__CUDA_ARCH__)
    __trap(); /* sm_90a only: launched on compute capability 9.0, where the driver loads the sm_90a code */
#endif
}

extern "C" __global__ void __launch_bounds__(LS_MOE_WG_THREADS, 1) ls_moe_down_wgmma(const LsMoeDownWgmmaParams p) {
#if LS_HAS_WGMMA
    const int* offsets = reinterpret_cast<const int*>(p.offsets);
    int e;
    int tile;
    if (!ls_moe_wg_find_tile(offsets, p.numExperts, e, tile)) {
        return;
    }
    const int first = offsets[e] + tile * LS_MOE_WG_ROWS;
    const int cnt = min(LS_MOE_WG_ROWS, offsets[e + 1] - first);
    const int f0 = blockIdx.x * LS_MOE_WG_DOWN_FEATURES;
    const LsMoeWgRing ring = ls_moe_wg_ring();
    const int role = threadIdx.x / 128;
    if (role == 0) {
        ls_setmaxnreg_dec<40>();
        const int t = threadIdx.x;
        const long long src = ls_moe_wg_source_row(nullptr, first, cnt, t) * p.hStride;
        const auto* hHi = reinterpret_cast<const unsigned short*>(p.hHi) + src;
        const auto* hLo = reinterpret_cast<const unsigned short*>(p.hLo) + src;
        const int stride = reinterpret_cast<const int*>(p.downStrides)[e];
        const auto* down = reinterpret_cast<const unsigned short*>(reinterpret_cast<const ls_ptr*>(p.downTable)[e]);
        const auto* b0 = down + static_cast<long long>(min(f0 + t, p.hidden - 1)) * stride;
        const auto* b1 = down + static_cast<long long>(min(f0 + t + 128, p.hidden - 1)) * stride;
        if (p.aTerms == 2) {
            ls_moe_wg_produce<2, 3>(ring, hHi, hLo, b0, b1, p.inter);
        } else {
            ls_moe_wg_produce<1, 4>(ring, hHi, hLo, b0, b1, p.inter);
        }
    } else {
        ls_setmaxnreg_inc<232>();
        float acc[128];
        if (p.aTerms == 2) {
            ls_moe_wg_consume<2, 3>(ring, role - 1, p.inter, acc);
        } else {
            ls_moe_wg_consume<1, 4>(ring, role - 1, p.inter, acc);
        }
        const int w = (threadIdx.x % 128) / 32;
        const int g = (threadIdx.x % 32) / 4;
        const int q = threadIdx.x % 4;
        float* y = reinterpret_cast<float*>(p.y);
#pragma unroll
        for (int j = 0; j < 32; j++) {
#pragma unroll
            for (int r = 0; r < 2; r++) {
                const int row = 64 * (role - 1) + 16 * w + g + 8 * r;
                const int feature = f0 + 8 * j + 2 * q;
                if (row < cnt && feature < p.hidden) {
                    /* hidden is even (a multiple of 16); yStride is not assumed even: two stores */
                    float* out = y + static_cast<long long>(first + row) * p.yStride + feature;
                    out[0] = acc[4 * j + 2 * r];
                    out[1] = acc[4 * j + 2 * r + 1];
                }
            }
        }
    }
#elif defined(__CUDA_ARCH__)
    __trap();
#endif
}

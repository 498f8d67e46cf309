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
 * Work items: an m-tile (128 sorted rows of one expert; each expert's rows in ceil(rows / 128) tiles, found from
 * offsets on the device, no host round trip) times a feature tile (gate/up: 128 features of gate and the same 128
 * of up as one B tile of 256 rows, columns 0-127 gate, 128-255 up, so SiLU(gate)·up is local to each thread's
 * accumulators: column c and c + 128 are registers 4j + i and 4(j + 16) + i of one thread; down: 256 features of
 * its output), numbered feature tile fastest. The grid is persistent (one block per SM fits): block b takes items
 * b, b + gridDim.x, ..., and its producer runs on into the next item's stages while the consumers write the last
 * one out, so neither a block launch nor the pipeline's fill separates two tiles. The blocks running together
 * share a few m-tiles' rows and experts' weights in L2. Deterministic, no atomics: each output element is written
 * by one thread.
 *
 * Weight tiles by TMA (weightMaps given: a tensor map per expert and matrix, built once per expert table): thread 0
 * of the producer adds the B tile's bytes to the stage's full barrier (expect_tx) and issues the bulk tensor copies
 * (gate/up: 128 gate rows and 128 up rows; down: 256 rows; 64 values each, in the same 128-byte swizzle, zeros past
 * K and past the last feature), so the producer's threads copy only the activations. Without maps, cp.async rows.
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
 * The block's work list: m-tiles numbered expert after expert (ceil(rows / 128) each), times the feature tiles,
 * feature tile fastest (t = m · featureTiles + f), so the blocks running at one time share a few m-tiles' rows
 * and experts' weights in L2. prefix[e] (shared memory) is the first m-tile of expert e, prefix[numExperts] the
 * m-tile count; computed once per block, then every thread finds its tiles' experts without a barrier.
 */
struct LsMoeWgTiles {
    const int* prefix;
    int numExperts;
    int featureTiles;

    __device__ int count() const {
        return prefix[numExperts] * featureTiles;
    }

    /* Expert, first sorted row and row count of work item t's m-tile, and its first output feature. */
    __device__ void find(int t, const int* offsets, int featuresPerTile, int& expert, int& first, int& cnt,
                         int& f0) const {
        const int m = t / featureTiles;
        int lo = 0;
        int hi = numExperts - 1;
        while (lo < hi) { /* the last expert whose first m-tile is at or before m (empty experts share it) */
            const int mid = (lo + hi + 1) / 2;
            if (prefix[mid] <= m) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        expert = lo;
        first = offsets[lo] + (m - prefix[lo]) * LS_MOE_WG_ROWS;
        cnt = min(LS_MOE_WG_ROWS, offsets[lo + 1] - first);
        f0 = (t % featureTiles) * featuresPerTile;
    }
};

__device__ __forceinline__ LsMoeWgTiles ls_moe_wg_tiles(const int* offsets, int numExperts, int features,
                                                        int featuresPerTile) {
    __shared__ int prefix[LS_MOE_WG_MAX_EXPERTS + 1];
    for (int e = threadIdx.x; e < numExperts; e += blockDim.x) {
        prefix[e + 1] = (offsets[e + 1] - offsets[e] + LS_MOE_WG_ROWS - 1) / LS_MOE_WG_ROWS;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        prefix[0] = 0;
        for (int e = 1; e <= numExperts; e++) {
            prefix[e] += prefix[e - 1];
        }
    }
    __syncthreads();
    LsMoeWgTiles tiles;
    tiles.prefix = prefix;
    tiles.numExperts = numExperts;
    tiles.featureTiles = (features + featuresPerTile - 1) / featuresPerTile;
    return tiles;
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
 * The producer warpgroup (thread p = threadIdx.x < 128), over all the block's tiles: per tile, A row p (aHi, aLo:
 * its bf16 terms) and B rows p (b0) and p + 128 (b1), K values each, stage after stage. Stages are numbered across
 * tiles (g), so the ring and its barrier phases run on from one tile to the next and the next tile's first stages
 * load while the consumers write the last one out. Stage g's copies are committed as one group; once stage g-1's
 * group has landed (wait_prior 1: g stays in flight), the thread fences and arrives on full[g-1]. Before refilling
 * buffer s it waits for empty[s] of the previous use. finish() signals the last stage.
 */
template <int TERMS, int STAGES>
struct LsMoeWgProducer {
    static constexpr int stageBytes = TERMS * LS_MOE_WG_A_BYTES + LS_MOE_WG_B_BYTES;
    static_assert(STAGES * stageBytes == LS_MOE_WG_RING_BYTES && STAGES <= LS_MOE_WG_MAX_STAGES, "the ring");
    const LsMoeWgRing ring;
    int g;

    /* B by TMA when bMap0 is given (thread 0: rows f0.. of bMap0, 128 of them then 128 of bMap1 for gate/up, or
     * 256 of bMap0 alone for down), else by cp.async from the row pointers b0, b1 */
    __device__ void tile(const unsigned short* aHi, const unsigned short* aLo, const void* bMap0, const void* bMap1,
                         int f0, const unsigned short* b0, const unsigned short* b1, int K) {
        const int p = threadIdx.x;
        const int chunks = (K + LS_MOE_WG_KC - 1) / LS_MOE_WG_KC;
        for (int c = 0; c < chunks; c++, g++) {
            const int s = g % STAGES;
            if (g >= STAGES) {
                ls_mbarrier_wait_parity(&ring.empty[s], (g / STAGES - 1) & 1);
            }
            unsigned char* stage = ring.stages + s * stageBytes;
            const int k0 = c * LS_MOE_WG_KC;
            ls_moe_wg_copy_row(stage, p, aHi, k0, K);
            if (TERMS == 2) {
                ls_moe_wg_copy_row(stage + LS_MOE_WG_A_BYTES, p, aLo, k0, K);
            }
            unsigned char* b = stage + TERMS * LS_MOE_WG_A_BYTES;
            if (bMap0 == nullptr) {
                ls_moe_wg_copy_row(b, p, b0, k0, K);
                ls_moe_wg_copy_row(b, p + 128, b1, k0, K);
            } else if (p == 0) {
                /* the phase is owed the box bytes before this thread's own (later) arrival can complete it */
                ls_mbarrier_expect_tx(&ring.full[s], LS_MOE_WG_B_BYTES);
                ls_tma_load_2d(b, bMap0, k0, f0, &ring.full[s]);
                if (bMap1 != nullptr) {
                    ls_tma_load_2d(b + LS_MOE_WG_B_BYTES / 2, bMap1, k0, f0, &ring.full[s]);
                }
            }
            __pipeline_commit();
            if (g > 0) {
                __pipeline_wait_prior(1);
                ls_fence_proxy_async_shared();
                ls_mbarrier_arrive(&ring.full[(g - 1) % STAGES]);
            }
        }
    }

    __device__ void finish() {
        if (g > 0) {
            __pipeline_wait_prior(0);
            ls_fence_proxy_async_shared();
            ls_mbarrier_arrive(&ring.full[(g - 1) % STAGES]);
        }
    }
};

/*
 * A consumer warpgroup (half 0 or 1: tile rows 64·half ..), over all the block's tiles, stages numbered as the
 * producer's: acc = its 64 rows x 256 B rows over K. Per stage: wait for full, 4 k-slices x TERMS wgmma, commit;
 * then wait for the previous stage's group and release its buffer (empty); the tile's last stage is released
 * after the last wait. Unrolled with TERMS a constant: no branch among the wgmma (else ptxas injects
 * warpgroup.arrive).
 */
template <int TERMS, int STAGES>
struct LsMoeWgConsumer {
    static constexpr int stageBytes = TERMS * LS_MOE_WG_A_BYTES + LS_MOE_WG_B_BYTES;
    const LsMoeWgRing ring;
    int half;
    int g;

    __device__ void tile(int K, float (&acc)[128]) {
        const int chunks = (K + LS_MOE_WG_KC - 1) / LS_MOE_WG_KC;
#pragma unroll
        for (int i = 0; i < 128; i++) {
            acc[i] = 0.0f;
        }
        for (int c = 0; c < chunks; c++, g++) {
            const int s = g % STAGES;
            ls_mbarrier_wait_parity(&ring.full[s], (g / STAGES) & 1);
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
                ls_mbarrier_arrive(&ring.empty[(g - 1) % STAGES]);
            }
        }
        ls_wgmma_wait<0>();
        ls_mbarrier_arrive(&ring.empty[(g - 1) % STAGES]);
    }
};

/* The row of x (or h) a tile row reads: rows past the tile's count repeat its last row. */
__device__ __forceinline__ long long ls_moe_wg_source_row(const int* rowToken, int first, int cnt, int r) {
    const int row = first + min(r, cnt - 1);
    return rowToken != nullptr ? rowToken[row] : row;
}

/* The gate/up producer: x rows through rowToken, gate rows f0 + p and up rows f0 + p (past inter, the last). */
template <int TERMS, int STAGES>
__device__ __forceinline__ void ls_moe_gate_up_wg_produce(const LsMoeGateUpWgmmaParams& p, const LsMoeWgTiles& tiles,
                                                          const LsMoeWgRing& ring) {
    LsMoeWgProducer<TERMS, STAGES> producer{ring, 0};
    const int t = threadIdx.x;
    for (int w = blockIdx.x; w < tiles.count(); w += gridDim.x) {
        int e, first, cnt, f0;
        tiles.find(w, reinterpret_cast<const int*>(p.offsets), LS_MOE_WG_GATE_UP_FEATURES, e, first, cnt, f0);
        const long long src = ls_moe_wg_source_row(reinterpret_cast<const int*>(p.rowToken), first, cnt, t) * p.xStride;
        const long long f = static_cast<long long>(min(f0 + t, p.inter - 1)) * p.hidden;
        const unsigned char* maps = reinterpret_cast<const unsigned char*>(p.weightMaps);
        producer.tile(reinterpret_cast<const unsigned short*>(p.xHi) + src,
                      reinterpret_cast<const unsigned short*>(p.xLo) + src,
                      maps != nullptr ? maps + (3 * e + 0) * LS_TENSOR_MAP_BYTES : nullptr,
                      maps != nullptr ? maps + (3 * e + 1) * LS_TENSOR_MAP_BYTES : nullptr, f0,
                      reinterpret_cast<const unsigned short*>(reinterpret_cast<const ls_ptr*>(p.gateTable)[e]) + f,
                      reinterpret_cast<const unsigned short*>(reinterpret_cast<const ls_ptr*>(p.upTable)[e]) + f,
                      p.hidden);
    }
    producer.finish();
}

/* The gate/up consumers: per tile, h = silu(gate)·up of its rows, stored as bf16 terms in pairs of features. */
template <int TERMS, int STAGES>
__device__ __forceinline__ void ls_moe_gate_up_wg_consume(const LsMoeGateUpWgmmaParams& p, const LsMoeWgTiles& tiles,
                                                          const LsMoeWgRing& ring, int half) {
    LsMoeWgConsumer<TERMS, STAGES> consumer{ring, half, 0};
    /* warp w of the consumer, lane (g, q): rows 64·half + 16w + g (+8), columns 8j + 2q (+1); gate in j < 16, up
     * of the same feature in j + 16. h as the CPU backend: z / (1f + exp(-z)) * up */
    const int w = (threadIdx.x % 128) / 32;
    const int g = (threadIdx.x % 32) / 4;
    const int q = threadIdx.x % 4;
    auto* hHi = reinterpret_cast<unsigned short*>(p.hHi);
    auto* hLo = reinterpret_cast<unsigned short*>(p.hLo);
    float acc[128];
    for (int item = blockIdx.x; item < tiles.count(); item += gridDim.x) {
        int e, first, cnt, f0;
        tiles.find(item, reinterpret_cast<const int*>(p.offsets), LS_MOE_WG_GATE_UP_FEATURES, e, first, cnt, f0);
        consumer.tile(p.hidden, acc);
#pragma unroll
        for (int j = 0; j < 16; j++) {
#pragma unroll
            for (int r = 0; r < 2; r++) {
                const int row = 64 * half + 16 * w + g + 8 * r;
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
                    if (TERMS == 2) {
                        *reinterpret_cast<unsigned*>(hLo + at) =
                            ls_pack_bf16x2(v[0] - ls_bf16_to_float(h0), v[1] - ls_bf16_to_float(h1));
                    }
                }
            }
        }
    }
}

/* The down producer: h rows of the tile, down rows f0 + p and f0 + p + 128 (past hidden, the last). */
template <int TERMS, int STAGES>
__device__ __forceinline__ void ls_moe_down_wg_produce(const LsMoeDownWgmmaParams& p, const LsMoeWgTiles& tiles,
                                                       const LsMoeWgRing& ring) {
    LsMoeWgProducer<TERMS, STAGES> producer{ring, 0};
    const int t = threadIdx.x;
    for (int w = blockIdx.x; w < tiles.count(); w += gridDim.x) {
        int e, first, cnt, f0;
        tiles.find(w, reinterpret_cast<const int*>(p.offsets), LS_MOE_WG_DOWN_FEATURES, e, first, cnt, f0);
        const long long src = ls_moe_wg_source_row(nullptr, first, cnt, t) * p.hStride;
        const int stride = reinterpret_cast<const int*>(p.downStrides)[e];
        const auto* down = reinterpret_cast<const unsigned short*>(reinterpret_cast<const ls_ptr*>(p.downTable)[e]);
        const unsigned char* maps = reinterpret_cast<const unsigned char*>(p.weightMaps);
        producer.tile(reinterpret_cast<const unsigned short*>(p.hHi) + src,
                      reinterpret_cast<const unsigned short*>(p.hLo) + src,
                      maps != nullptr ? maps + (3 * e + 2) * LS_TENSOR_MAP_BYTES : nullptr, nullptr, f0,
                      down + static_cast<long long>(min(f0 + t, p.hidden - 1)) * stride,
                      down + static_cast<long long>(min(f0 + t + 128, p.hidden - 1)) * stride, p.inter);
    }
    producer.finish();
}

/* The down consumers: per tile, y of its rows and 256 features. */
template <int TERMS, int STAGES>
__device__ __forceinline__ void ls_moe_down_wg_consume(const LsMoeDownWgmmaParams& p, const LsMoeWgTiles& tiles,
                                                       const LsMoeWgRing& ring, int half) {
    LsMoeWgConsumer<TERMS, STAGES> consumer{ring, half, 0};
    const int w = (threadIdx.x % 128) / 32;
    const int g = (threadIdx.x % 32) / 4;
    const int q = threadIdx.x % 4;
    float* y = reinterpret_cast<float*>(p.y);
    float acc[128];
    for (int item = blockIdx.x; item < tiles.count(); item += gridDim.x) {
        int e, first, cnt, f0;
        tiles.find(item, reinterpret_cast<const int*>(p.offsets), LS_MOE_WG_DOWN_FEATURES, e, first, cnt, f0);
        consumer.tile(p.inter, acc);
#pragma unroll
        for (int j = 0; j < 32; j++) {
#pragma unroll
            for (int r = 0; r < 2; r++) {
                const int row = 64 * half + 16 * w + g + 8 * r;
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
}

#endif /* LS_HAS_WGMMA */

/* Each kernel: the tile list and ring set up by the whole block, then the roles, each one branch (setmaxnreg). */
extern "C" __global__ void __launch_bounds__(LS_MOE_WG_THREADS, 1) ls_moe_gate_up_wgmma(const LsMoeGateUpWgmmaParams p) {
#if LS_HAS_WGMMA
    const LsMoeWgTiles tiles = ls_moe_wg_tiles(reinterpret_cast<const int*>(p.offsets), p.numExperts, p.inter,
                                               LS_MOE_WG_GATE_UP_FEATURES);
    const LsMoeWgRing ring = ls_moe_wg_ring();
    const int role = threadIdx.x / 128;
    if (role == 0) {
        ls_setmaxnreg_dec<40>();
        if (p.aTerms == 2) {
            ls_moe_gate_up_wg_produce<2, 3>(p, tiles, ring);
        } else {
            ls_moe_gate_up_wg_produce<1, 4>(p, tiles, ring);
        }
    } else {
        ls_setmaxnreg_inc<232>();
        if (p.aTerms == 2) {
            ls_moe_gate_up_wg_consume<2, 3>(p, tiles, ring, role - 1);
        } else {
            ls_moe_gate_up_wg_consume<1, 4>(p, tiles, ring, role - 1);
        }
    }
#elif defined(__CUDA_ARCH__)
    __trap(); /* sm_90a only: launched on compute capability 9.0, where the driver loads the sm_90a code */
#endif
}

extern "C" __global__ void __launch_bounds__(LS_MOE_WG_THREADS, 1) ls_moe_down_wgmma(const LsMoeDownWgmmaParams p) {
#if LS_HAS_WGMMA
    const LsMoeWgTiles tiles = ls_moe_wg_tiles(reinterpret_cast<const int*>(p.offsets), p.numExperts, p.hidden,
                                               LS_MOE_WG_DOWN_FEATURES);
    const LsMoeWgRing ring = ls_moe_wg_ring();
    const int role = threadIdx.x / 128;
    if (role == 0) {
        ls_setmaxnreg_dec<40>();
        if (p.aTerms == 2) {
            ls_moe_down_wg_produce<2, 3>(p, tiles, ring);
        } else {
            ls_moe_down_wg_produce<1, 4>(p, tiles, ring);
        }
    } else {
        ls_setmaxnreg_inc<232>();
        if (p.aTerms == 2) {
            ls_moe_down_wg_consume<2, 3>(p, tiles, ring, role - 1);
        } else {
            ls_moe_down_wg_consume<1, 4>(p, tiles, ring, role - 1);
        }
    }
#elif defined(__CUDA_ARCH__)
    __trap();
#endif
}

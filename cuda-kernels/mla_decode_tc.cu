/*
 * ls_mla_decode on tensor cores, over a bf16 latent cache: absorbed MLA decode split over the keys, the same
 * work items, outputs and host plan (MlaDecodePlan) as ls_mla_decode, merged by the same ls_mla_combine.
 *
 * Why: a bf16 latent row (r + dr = 576 values, 1152 bytes) feeds 16 heads x (576 + 512) multiply-adds, about
 * 30 FLOP per byte read; CUDA cores in f32 cannot keep up with HBM at that intensity, mma.sync can. A block
 * serves one work item (a chunk [start, end) of one query row's keys) and LS_MLA_TC_HEADS = 16 heads, the M of
 * every m16n8k16 product (heads past numHeads are zero query rows, never written).
 *
 * Per tile of LS_MLA_TC_TILE cache rows (streamed by cp.async through LS_MLA_TC_STAGES shared buffers, rows
 * padded by 16 bytes to an odd number of 16-byte units so ldmatrix reads 8 rows without bank conflicts):
 *   1. S = Q.K^T (16 heads x TILE keys, K = r + dr): warp (kq, kg) = (warp % KSPLIT, warp / KSPLIT) multiplies
 *      its slice kq of the dims for its 16 keys kg. Q is f32: split once into bf16 hi + lo A fragments held in
 *      registers for the whole block (9 k-steps of the slice at 576 dims), two mma per step against the exact
 *      bf16 keys (B fragments by ldmatrix), so a score carries about 16 significant bits of q, not 8.
 *      The KSPLIT partial sums go to shared memory.
 *   2. Online softmax: thread i owns head i / 16 and keys 2 (i % 16), +1; sums the partials in a fixed order,
 *      scales, masks keys past the chunk, row max and correction over the head's 16 lanes (shuffles), and writes
 *      P = exp(s - m) split into bf16 hi + lo, already in A-fragment order, plus each head's correction factor.
 *   3. O += P.V: V is the first r columns of the same tile (B fragments by ldmatrix.trans); the 16 x r f32
 *      accumulators live in registers, warp w owning column pairs of 16 (w, w + 8, ...), rescaled first by
 *      the correction of their two head rows (g and g + 8 of the fragment).
 * Three block barriers per tile separate the phases. Scores f32 with the f64-rounded exp of ls_common.cuh,
 * like ls_mla_decode; only the summation order differs (mma accumulates in f32 in its own order).
 */
#include "include/ls_common.cuh"
#include "include/ls_hopper.cuh"
#ifdef __CUDACC__
#include <cuda_pipeline_primitives.h>
#endif

#define LS_MLA_TC_THREADS (32 * LS_MLA_TC_WARPS)
/* Keys of a tile each warp multiplies in phase 1: two n8 blocks (one ldmatrix.x4 per k-step). */
#define LS_MLA_TC_WARP_KEYS (LS_MLA_TC_TILE * LS_MLA_TC_KSPLIT / LS_MLA_TC_WARPS)
/* Most k-steps (16 dims) of Q one warp holds: its share of LS_MLA_MAX_QK. */
#define LS_MLA_TC_QSTEPS ((LS_MLA_MAX_QK / 16 + LS_MLA_TC_KSPLIT - 1) / LS_MLA_TC_KSPLIT)
/* Most output column pairs (2 x n8) one warp accumulates: its share of LS_MLA_MAX_R. */
#define LS_MLA_TC_PAIRS (LS_MLA_MAX_R / 16 / LS_MLA_TC_WARPS)
/* k-steps of P.V over one tile's keys. */
#define LS_MLA_TC_PSTEPS (LS_MLA_TC_TILE / 16)
/* Row stride (floats) of the partial scores: 8 more than the tile, so the float2 stores of a half-warp's
 * 4 head rows land in distinct banks. */
#define LS_MLA_TC_PART_STRIDE (LS_MLA_TC_TILE + 8)
#define LS_MLA_TC_PART_FLOATS (LS_MLA_TC_KSPLIT * LS_MLA_TC_HEADS * LS_MLA_TC_PART_STRIDE)

static_assert(LS_MLA_TC_HEADS == 16, "the heads are the M = 16 rows of m16n8k16");
static_assert(LS_MLA_TC_WARP_KEYS == 16, "phase 1: a warp's keys are two n8 blocks of one ldmatrix.x4");
static_assert(LS_MLA_TC_WARPS % LS_MLA_TC_KSPLIT == 0, "warps split into KSPLIT dim slices x key groups");
static_assert(LS_MLA_TC_HEADS * LS_MLA_TC_TILE == 2 * LS_MLA_TC_THREADS, "phase 2: two scores per thread");
static_assert(LS_MLA_TC_TILE % 16 == 0 && LS_MLA_MAX_QK % 16 == 0, "k-steps of 16");
static_assert(LS_MLA_MAX_R % (16 * LS_MLA_TC_WARPS) == 0, "output column pairs spread evenly over the warps");

/* Two f32 values as bf16 hi (round to nearest) and lo = bf16(x - hi) pairs: x = hi + lo + O(2^-17 |x|). */
__device__ __forceinline__ void ls_mla_tc_split(float x0, float x1, unsigned& hi, unsigned& lo) {
    const unsigned short h0 = ls_to_bf16(x0);
    const unsigned short h1 = ls_to_bf16(x1);
    hi = static_cast<unsigned>(h0) | (static_cast<unsigned>(h1) << 16);
    lo = ls_pack_bf16x2(x0 - ls_bf16_to_float(h0), x1 - ls_bf16_to_float(h1));   /* differences exact in f32 */
}

/*
 * The kernel body, two ways of filling the tile ring (kBulk, both kernels below):
 *   cp.async (ls_mla_decode_tc): every thread copies its share of a tile's 16-byte pieces and commits a group;
 *     a tile is ready after __pipeline_wait_prior plus a block barrier, which also means every warp is done with
 *     the stage refilled next. Three block barriers per tile.
 *   bulk copy (ls_mla_decode_tma, sm_90): lane s of warp 0 issues row s of a tile as one cp.async.bulk of the
 *     row's 2 (r + dr) bytes into its padded ring row, lane 0 having announced the tile's bytes to the stage's
 *     mbarrier (arrive.expect_tx); consumers wait on that barrier's phase (tile t is use t / STAGES of stage
 *     t % STAGES, parity (t / STAGES) & 1). The refill of the stage tile t - 1 used is issued after the barrier
 *     that ends phase 1 of tile t (every warp is then done reading tile t - 1 with ordinary loads, as the async
 *     proxy's writes must wait for), so the top-of-tile barrier goes: two block barriers per tile. Rows past the
 *     chunk are zeroed by ordinary stores, read only after later block barriers. Needs 16-byte aligned rows
 *     (cacheStride % 8 == 0, cache 16-byte aligned); otherwise it takes the cp.async path itself.
 */
template <bool kBulk>
__device__ __forceinline__ void ls_mla_decode_tc_body(const LsMlaDecodeTcParams& p) {
    extern __shared__ __align__(16) float smem[];   /* 16-byte copies (cp.async, bulk), ldmatrix rows, uint4 reads */
    float* part = smem;                                                    /* [KSPLIT][16][PART_STRIDE] */
    uint4* pFrag = reinterpret_cast<uint4*>(smem + LS_MLA_TC_PART_FLOATS); /* [PSTEPS][hi, lo][32 lanes] */
    float* corrS = reinterpret_cast<float*>(pFrag + LS_MLA_TC_PSTEPS * 2 * 32);   /* [16] this tile's factors */
    float* mlS = corrS + LS_MLA_TC_HEADS;                                  /* [16][2] final m, l */
    unsigned short* ring = reinterpret_cast<unsigned short*>(mlS + 2 * LS_MLA_TC_HEADS);  /* [STAGES][TILE][rowPad] */
    /* then [STAGES] mbarriers (bulk copies; 8-byte aligned: the ring is a multiple of 16 bytes) */

    const int b = blockIdx.x;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int g = lane >> 2;   /* fragment row group: heads g and g + 8 */
    const int t4 = lane & 3;
    const int qk = p.r + p.dr;
    /* Shared row length in bf16: qk (a multiple of 16) + 8, an odd number of 16-byte units, so the 8 rows one
     * ldmatrix phase reads start in 8 different bank quads. */
    const int rowPad = qk + 8;
    const int* work = reinterpret_cast<const int*>(p.work) + 4 * static_cast<long long>(b);
    const int row = work[0];
    if (row < 0) {
        return;   /* padding item (MlaDecodePlan.launchWork: one launch shape per power-of-two item count) */
    }
    const int seq = work[1];
    const int start = work[2];
    const int end = work[3];
    const int h0 = blockIdx.y * LS_MLA_TC_HEADS;

    /* Phase 1 roles: dims [16 kFirst, 16 (kFirst + kCount)) of keys [keyBase, keyBase + 16) of each tile. */
    const int kq = warp % LS_MLA_TC_KSPLIT;
    const int keyBase = (warp / LS_MLA_TC_KSPLIT) * LS_MLA_TC_WARP_KEYS;
    const int kSteps = qk / 16;
    const int perSlice = (kSteps + LS_MLA_TC_KSPLIT - 1) / LS_MLA_TC_KSPLIT;
    const int kFirst = kq * perSlice;
    const int kCount = kFirst >= kSteps ? 0 : min(perSlice, kSteps - kFirst);

    /* The warp's Q slice as A fragments (rows = heads g, g + 8; cols 2t4, 2t4 + 1 and 8 more), hi and lo. */
    unsigned qHi[LS_MLA_TC_QSTEPS][4];
    unsigned qLo[LS_MLA_TC_QSTEPS][4];
    {
        const float* qRow = reinterpret_cast<const float*>(p.q) + static_cast<long long>(row) * p.qStride;
        const bool onG = h0 + g < p.numHeads;
        const bool onG8 = h0 + g + 8 < p.numHeads;
        const float* qG = qRow + static_cast<long long>(onG ? h0 + g : 0) * p.qHeadStride;
        const float* qG8 = qRow + static_cast<long long>(onG8 ? h0 + g + 8 : 0) * p.qHeadStride;
#pragma unroll
        for (int j = 0; j < LS_MLA_TC_QSTEPS; j++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                const bool upper = (i & 1) != 0;   /* a[1], a[3]: row g + 8 */
                const int c = 16 * (kFirst + j) + 2 * t4 + 8 * (i >> 1);
                const bool on = j < kCount && (upper ? onG8 : onG);
                const float* qh = upper ? qG8 : qG;
                ls_mla_tc_split(on ? qh[c] : 0.0f, on ? qh[c + 1] : 0.0f, qHi[j][i], qLo[j][i]);
            }
        }
    }

    /* Phase 2 role: head sHead, keys sKey and sKey + 1 of each tile; m and this thread's share of l. */
    const int sHead = threadIdx.x >> 4;
    const int sKey = 2 * (threadIdx.x & 15);
    float m = -INFINITY;
    float lPart = 0.0f;

    /* Phase 3 role: output column pairs 16 (warp + WARPS j) .. +15 for j < PAIRS, rows g and g + 8. */
    const int colPairs = p.r / 16;
    float o[LS_MLA_TC_PAIRS][2][4];
#pragma unroll
    for (int j = 0; j < LS_MLA_TC_PAIRS; j++) {
#pragma unroll
        for (int n = 0; n < 2; n++) {
#pragma unroll
            for (int k = 0; k < 4; k++) {
                o[j][n][k] = 0.0f;
            }
        }
    }

    const unsigned short* cache = reinterpret_cast<const unsigned short*>(p.cache);
    const int* table = reinterpret_cast<const int*>(p.blockTables) + static_cast<long long>(seq) * p.maxBlocks;
    /* 16-byte copies need every row start 16-byte aligned; otherwise plain element copies (slow, correct). */
    const bool vec = (p.cacheStride & 7) == 0 && (p.cache & 15) == 0;
    const int numTiles = (end - start + LS_MLA_TC_TILE - 1) / LS_MLA_TC_TILE;
    const int tileElems = LS_MLA_TC_TILE * rowPad;
    const int pieces = qk >> 3;   /* 16-byte pieces of a row */
    const bool bulk = kBulk && vec;
    unsigned long long* stageBar = reinterpret_cast<unsigned long long*>(ring + LS_MLA_TC_STAGES * tileElems);

    /* Every thread issues its share of tile t's pieces and commits one group (empty past the last tile), so
     * each thread's group count is the same and wait_prior is exact. Rows past the chunk are zeroed: P is 0
     * there, but 0 times stale bits could be NaN in the P.V product. */
    auto issueTile = [&](int t) {
        if (t < numTiles) {
            const int t0 = start + t * LS_MLA_TC_TILE;
            const int valid = min(LS_MLA_TC_TILE, end - t0);
            unsigned short* buf = ring + (t % LS_MLA_TC_STAGES) * tileElems;
            for (int i = threadIdx.x; i < LS_MLA_TC_TILE * pieces; i += LS_MLA_TC_THREADS) {
                const int s = i / pieces;
                const int c = 8 * (i - s * pieces);
                unsigned short* dst = buf + s * rowPad + c;
                if (s < valid) {
                    const int pos = t0 + s;
                    const long long cacheRow = static_cast<long long>(table[pos / p.blockSize]) * p.blockSize
                            + pos % p.blockSize;
                    const unsigned short* src = cache + cacheRow * p.cacheStride + c;
                    if (vec) {
                        __pipeline_memcpy_async(dst, src, 16);
                    } else {
#pragma unroll
                        for (int k = 0; k < 8; k++) {
                            dst[k] = src[k];
                        }
                    }
                } else {
                    *reinterpret_cast<uint4*>(dst) = uint4{0u, 0u, 0u, 0u};
                }
            }
        }
        __pipeline_commit();
    };

    /* Bulk path: the cache row that lane `lane` of warp 0 copies for tile t, or -1 (no such tile or row). Read a
     * phase ahead of the copy, so the block-table load is not on the issuing warp's path. */
    auto bulkRow = [&](int t) -> long long {
        const int pos = start + t * LS_MLA_TC_TILE + lane;
        if (t >= numTiles || pos >= end) {
            return -1;
        }
        return static_cast<long long>(table[pos / p.blockSize]) * p.blockSize + pos % p.blockSize;
    };
    /* Bulk path, tile t into its stage: warp 0 copies the rows (cacheRow from bulkRow(t) of each lane); every
     * thread zeroes its share of the rows past the chunk. */
    auto issueBulk = [&](int t, long long cacheRow) {
        if (t >= numTiles) {
            return;
        }
        const int valid = min(LS_MLA_TC_TILE, end - (start + t * LS_MLA_TC_TILE));
        const int stage = t % LS_MLA_TC_STAGES;
        unsigned short* buf = ring + stage * tileElems;
        if (warp == 0) {
            const unsigned rowBytes = 2u * static_cast<unsigned>(qk);
            if (lane == 0) {
                ls_mbarrier_arrive_expect_tx(&stageBar[stage], static_cast<unsigned>(valid) * rowBytes);
            }
            if (cacheRow >= 0) {   /* lane < valid */
                ls_bulk_copy_g2s(buf + lane * rowPad, cache + cacheRow * p.cacheStride, rowBytes, &stageBar[stage]);
            }
        }
        for (int i = threadIdx.x; i < (LS_MLA_TC_TILE - valid) * pieces; i += LS_MLA_TC_THREADS) {
            const int s = valid + i / pieces;
            *reinterpret_cast<uint4*>(buf + s * rowPad + 8 * (i % pieces)) = uint4{0u, 0u, 0u, 0u};
        }
    };

    if (bulk) {
        static_assert(LS_MLA_TC_TILE <= 32, "bulk path: one lane of warp 0 per row of a tile");
        if (threadIdx.x == 0) {
#pragma unroll
            for (int s = 0; s < LS_MLA_TC_STAGES; s++) {
                ls_mbarrier_init(&stageBar[s], 1);   /* one arrival per use: lane 0's arrive.expect_tx */
            }
            ls_fence_mbarrier_init();
        }
        __syncthreads();   /* the barriers are initialised for every thread (and the bulk engine) */
#pragma unroll
        for (int t = 0; t < LS_MLA_TC_STAGES - 1; t++) {
            issueBulk(t, warp == 0 ? bulkRow(t) : -1);
        }
        __syncthreads();   /* zeroed rows of the first tiles visible; the loop has no barrier before phase 1 */
    } else {
#pragma unroll
        for (int t = 0; t < LS_MLA_TC_STAGES - 1; t++) {
            issueTile(t);
        }
    }

    for (int t = 0; t < numTiles; t++) {
        const int valid = min(LS_MLA_TC_TILE, end - (start + t * LS_MLA_TC_TILE));
        long long nextRow = -1;   /* bulk: this lane's row of tile t + STAGES - 1, issued after phase 1 */
        if (bulk) {
            if (warp == 0) {
                nextRow = bulkRow(t + LS_MLA_TC_STAGES - 1);
            }
            /* tile t's rows have landed in its stage (and are visible: the wait acquires the copies) */
            ls_mbarrier_wait_parity(&stageBar[t % LS_MLA_TC_STAGES], static_cast<unsigned>(t / LS_MLA_TC_STAGES) & 1u);
        } else {
            /* This thread's copies of tile t have landed; the barrier makes them everyone's, and means every warp
             * is done with tile t - 1 (whose buffer is refilled right below) and with the last P and factors. */
            __pipeline_wait_prior(LS_MLA_TC_STAGES - 2);
            __syncthreads();
            issueTile(t + LS_MLA_TC_STAGES - 1);
        }
        const unsigned short* cur = ring + (t % LS_MLA_TC_STAGES) * tileElems;

        /* Phase 1: partial scores of keys keyBase .. +15 over this warp's dim slice. Lane l addresses row l % 8
         * of matrix l / 8: matrices (keys +0, dims +0), (+0, +8), (+8, +0), (+8, +8) = b[0], b[1] of the two
         * n8 key blocks. */
        {
            float s[2][4];
#pragma unroll
            for (int n = 0; n < 2; n++) {
#pragma unroll
                for (int k = 0; k < 4; k++) {
                    s[n][k] = 0.0f;
                }
            }
            const int mi = lane >> 3;
            const unsigned short* kRow = cur + (keyBase + (lane & 7) + 8 * (mi >> 1)) * rowPad + 8 * (mi & 1);
#pragma unroll
            for (int j = 0; j < LS_MLA_TC_QSTEPS; j++) {
                if (j < kCount) {   /* warp-uniform */
                    unsigned kb[4];
                    ls_ldmatrix_x4(kb, kRow + 16 * (kFirst + j));
                    const unsigned b0[2] = {kb[0], kb[1]};
                    const unsigned b1[2] = {kb[2], kb[3]};
                    ls_mma_bf16_16816(s[0], qHi[j], b0, s[0]);
                    ls_mma_bf16_16816(s[0], qLo[j], b0, s[0]);
                    ls_mma_bf16_16816(s[1], qHi[j], b1, s[1]);
                    ls_mma_bf16_16816(s[1], qLo[j], b1, s[1]);
                }
            }
            float* mine = part + kq * LS_MLA_TC_HEADS * LS_MLA_TC_PART_STRIDE;
#pragma unroll
            for (int n = 0; n < 2; n++) {
                const int key = keyBase + 8 * n + 2 * t4;
                *reinterpret_cast<float2*>(mine + g * LS_MLA_TC_PART_STRIDE + key) = float2{s[n][0], s[n][1]};
                *reinterpret_cast<float2*>(mine + (g + 8) * LS_MLA_TC_PART_STRIDE + key) = float2{s[n][2], s[n][3]};
            }
        }
        __syncthreads();
        if (bulk) {
            /* every warp is past phase 3 of tile t - 1: its stage takes tile t + STAGES - 1 */
            issueBulk(t + LS_MLA_TC_STAGES - 1, nextRow);
        }

        /* Phase 2: online softmax of (sHead, sKey, sKey + 1); a head's 16 lanes are one half-warp. */
        {
            /* float2 reads: a half-warp takes one 128-byte row of a slice, the warp two, no bank conflict */
            const float* ps = part + sHead * LS_MLA_TC_PART_STRIDE + sKey;
            const float2 first = *reinterpret_cast<const float2*>(ps);
            float s0 = first.x;
            float s1 = first.y;
#pragma unroll
            for (int k = 1; k < LS_MLA_TC_KSPLIT; k++) {
                const float2 next = *reinterpret_cast<const float2*>(ps + k * LS_MLA_TC_HEADS * LS_MLA_TC_PART_STRIDE);
                s0 += next.x;
                s1 += next.y;
            }
            s0 = sKey < valid ? s0 * p.scale : -INFINITY;
            s1 = sKey + 1 < valid ? s1 * p.scale : -INFINITY;
            float tileMax = fmaxf(s0, s1);
#pragma unroll
            for (int off = 8; off > 0; off >>= 1) {
                tileMax = fmaxf(tileMax, __shfl_xor_sync(LS_FULL_MASK, tileMax, off));
            }
            const float mNew = fmaxf(m, tileMax);   /* finite: every tile holds a key of the chunk */
            const float corr = ls_exp_f(m - mNew);  /* 0 on the first tile (m = -inf) */
            const float e0 = ls_exp_f(s0 - mNew);   /* 0 past the chunk */
            const float e1 = ls_exp_f(s1 - mNew);
            lPart = lPart * corr + (e0 + e1);
            m = mNew;
            if ((threadIdx.x & 15) == 0) {
                corrS[sHead] = corr;
            }
            /* A fragment of k-step sKey / 16: row sHead, cols c, c + 1 (c = sKey % 16) sit in lane
             * 4 (sHead % 8) + (c % 8) / 2, register (sHead >= 8) + 2 (c >= 8). */
            const int c = sKey & 15;
            const int fragLane = 4 * (sHead & 7) + ((c & 7) >> 1);
            const int reg = (sHead >> 3) + 2 * (c >> 3);
            unsigned hi, lo;
            ls_mla_tc_split(e0, e1, hi, lo);
            unsigned* pw = reinterpret_cast<unsigned*>(pFrag + (sKey >> 4) * 2 * 32);
            pw[4 * fragLane + reg] = hi;
            pw[4 * (32 + fragLane) + reg] = lo;
        }
        __syncthreads();

        /* Phase 3: rescale, then O += P.V over the tile's keys. ldmatrix.trans matrices (keys +0, cols +0),
         * (+8, +0), (+0, +8), (+8, +8) = b[0], b[1] of the pair's two n8 column blocks. */
        {
            const float cG = corrS[g];
            const float cG8 = corrS[g + 8];
#pragma unroll
            for (int j = 0; j < LS_MLA_TC_PAIRS; j++) {
#pragma unroll
                for (int n = 0; n < 2; n++) {
                    o[j][n][0] *= cG;
                    o[j][n][1] *= cG;
                    o[j][n][2] *= cG8;
                    o[j][n][3] *= cG8;
                }
            }
            const int mi = lane >> 3;
            const unsigned short* vRow = cur + ((lane & 7) + 8 * (mi & 1)) * rowPad + 8 * (mi >> 1);
#pragma unroll
            for (int kk = 0; kk < LS_MLA_TC_PSTEPS; kk++) {
                const uint4 ah = pFrag[kk * 2 * 32 + lane];
                const uint4 al = pFrag[(kk * 2 + 1) * 32 + lane];
                const unsigned aHi[4] = {ah.x, ah.y, ah.z, ah.w};
                const unsigned aLo[4] = {al.x, al.y, al.z, al.w};
#pragma unroll
                for (int j = 0; j < LS_MLA_TC_PAIRS; j++) {
                    const int pair = warp + LS_MLA_TC_WARPS * j;
                    if (pair < colPairs) {   /* warp-uniform */
                        unsigned vb[4];
                        ls_ldmatrix_x4_trans(vb, vRow + 16 * kk * rowPad + 16 * pair);
                        const unsigned b0[2] = {vb[0], vb[1]};
                        const unsigned b1[2] = {vb[2], vb[3]};
                        ls_mma_bf16_16816(o[j][0], aHi, b0, o[j][0]);
                        ls_mma_bf16_16816(o[j][0], aLo, b0, o[j][0]);
                        ls_mma_bf16_16816(o[j][1], aHi, b1, o[j][1]);
                        ls_mma_bf16_16816(o[j][1], aLo, b1, o[j][1]);
                    }
                }
            }
        }
    }

    /* l of each head: the sum of its 16 lanes' shares (each rescaled by the same factors as O). */
#pragma unroll
    for (int off = 8; off > 0; off >>= 1) {
        lPart += __shfl_xor_sync(LS_FULL_MASK, lPart, off);
    }
    if ((threadIdx.x & 15) == 0) {
        mlS[2 * sHead] = m;
        mlS[2 * sHead + 1] = lPart;
    }
    __syncthreads();

    /* One split: the final normalised row straight into out. Several: the partial for ls_mla_combine. */
    const int* splitBase = reinterpret_cast<const int*>(p.splitBase);
    const bool single = splitBase[row + 1] - splitBase[row] == 1;
#pragma unroll
    for (int half = 0; half < 2; half++) {
        const int head = g + 8 * half;
        const int h = h0 + head;
        if (h >= p.numHeads) {
            continue;
        }
        float* dst;
        float factor = 1.0f;
        const long long slot = static_cast<long long>(b) * p.numHeads + h;
        if (single) {
            dst = reinterpret_cast<float*>(p.out) + static_cast<long long>(row) * p.outStride
                    + static_cast<long long>(h) * p.outHeadStride;
            factor = 1.0f / mlS[2 * head + 1];
        } else {
            dst = reinterpret_cast<float*>(p.partialAcc) + slot * p.r;
            if (warp == 0 && t4 == 0) {
                reinterpret_cast<float*>(p.partialMl)[2 * slot] = mlS[2 * head];
                reinterpret_cast<float*>(p.partialMl)[2 * slot + 1] = mlS[2 * head + 1];
            }
        }
#pragma unroll
        for (int j = 0; j < LS_MLA_TC_PAIRS; j++) {
            const int pair = warp + LS_MLA_TC_WARPS * j;
            if (pair < colPairs) {
#pragma unroll
                for (int n = 0; n < 2; n++) {
                    const int col = 16 * pair + 8 * n + 2 * t4;
                    dst[col] = single ? o[j][n][2 * half] * factor : o[j][n][2 * half];
                    dst[col + 1] = single ? o[j][n][2 * half + 1] * factor : o[j][n][2 * half + 1];
                }
            }
        }
    }
}

/* One block per SM (its ~160 KB of shared memory allows no second). Left to __launch_bounds__(256, 1) ptxas takes
 * ~214 registers, mostly for addresses it hoists; capped at 168 (__maxnreg__, which excludes __launch_bounds__)
 * it needs no local memory: Q fragments 72, O accumulators 32, scores 8. */
extern "C" __global__ void __maxnreg__(168) ls_mla_decode_tc(const LsMlaDecodeTcParams p) {
    ls_mla_decode_tc_body<false>(p);
}

/* The bulk-copy variant (sm_90: compute capability >= 9.0 only; the sm_80 code traps). Same parameters, work
 * items, outputs and shared memory as ls_mla_decode_tc. */
extern "C" __global__ void __maxnreg__(168) ls_mla_decode_tma(const LsMlaDecodeTcParams p) {
#if LS_HAS_BULK_COPY
    ls_mla_decode_tc_body<true>(p);
#else
    __trap();
#endif
}

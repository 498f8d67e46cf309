/*
 * Paged MLA decode attention in the absorbed form, split over the KV sequence (flash-decoding), and the
 * log-sum-exp combine of the splits.
 *
 * Why not ls_attention: it runs one block per (token, head), so each of the 16..128 heads of a decode
 * token re-reads the whole latent cache of its sequence, and one long sequence is one block per head
 * however few sequences the batch has. Here one block serves LS_MLA_DECODE_WARPS * LS_MLA_HEADS_PER_WARP
 * heads of one query row and one contiguous chunk (split) of its keys: every latent row goes from global
 * memory into shared memory once and is used by all those heads, and a long context is cut into as many
 * splits as the GPU needs to fill its SMs (planned on the host, io.latentserve.cuda.backend.MlaDecodePlan).
 *
 * Inside a block: tiles of LS_MLA_TILE latent rows (r + dr floats each) stream into LS_MLA_STAGES shared-memory
 * buffers by cp.async, so the next tiles load while one is computed (see the loop). Each warp
 * owns LS_MLA_HEADS_PER_WARP heads; its query values live in registers, lane l holding dims l, l+32, ...
 * For a tile the lanes form partial dot products for all TILE x HEADS_PER_WARP = 32 (row, head) pairs over
 * their dims, and one reduce-scatter across the warp (31 shuffles for 32 sums, instead of 32 x 5) leaves
 * lane i with the full score of pair i. Online softmax per head, then the 512-wide value accumulator of
 * each head is spread over the lanes (value columns 4*lane + 128*j + {0..3}), the weights read from shared
 * memory; tile rows are read 4 values at a time (float4, or 4 bf16 as 8 bytes), padded to 16 bytes in shared memory.
 * All f32 with fmaf and the f64-rounded exp of ls_common.cuh, like ls_attention.
 *
 * The cache is f32 or bf16 (LsMlaDecodeParams.cacheDtype): the body is a template over the element type, chosen
 * once per block. A bf16 cache keeps bf16 in the shared tiles (cp.async copies bytes; half the shared memory and
 * half the copies) and widens each value exactly as it is read, so the arithmetic is the f32 path's.
 */
#include "include/ls_common.cuh"
#ifdef __CUDACC__
/* cp.async (sm_80+): __pipeline_memcpy_async of 16 bytes is cp.async.cg (L2 only: the cache is streamed once),
 * __pipeline_commit / __pipeline_wait_prior are cp.async.commit_group / wait_group. emu.h has synchronous
 * stand-ins for the CPU emulation. */
#include <cuda_pipeline_primitives.h>
#endif

#define LS_MLA_THREADS (32 * LS_MLA_DECODE_WARPS)
#define LS_MLA_HEADS_PER_BLOCK (LS_MLA_DECODE_WARPS * LS_MLA_HEADS_PER_WARP)
/* Each lane reads shared memory 16 bytes at a time (LDS.128: a quarter of the load instructions of 4-byte
 * reads for the same shared-memory wavefronts): a lane owns dims 4*lane + 128*i + {0..3}, i < QK4. */
#define LS_MLA_QK4 ((LS_MLA_MAX_QK + 127) / 128)
#define LS_MLA_V4 ((LS_MLA_MAX_R + 127) / 128)

static_assert(LS_MLA_TILE * LS_MLA_HEADS_PER_WARP == 32, "one (row, head) score per lane after the reduce-scatter");
static_assert(LS_MLA_HEADS_PER_WARP == 2, "the softmax bookkeeping below pairs the two heads of a warp");
static_assert(LS_MLA_MAX_QK % 4 == 0 && LS_MLA_MAX_R % 4 == 0, "per-lane float4 register arrays");

/* Cache row of key position pos of sequence seq through its block table. */
__device__ __forceinline__ long long ls_mla_key_row(const LsMlaDecodeParams& p, int seq, int pos) {
    const int* table = reinterpret_cast<const int*>(p.blockTables) + static_cast<long long>(seq) * p.maxBlocks;
    return static_cast<long long>(table[pos / p.blockSize]) * p.blockSize + pos % p.blockSize;
}

/* Values c .. c+3 of a shared tile row (c a multiple of 4, the row 16-byte aligned), widened to f32. */
__device__ __forceinline__ float4 ls_mla_load4(const float* row, int c) {
    return *reinterpret_cast<const float4*>(row + c);
}
__device__ __forceinline__ float4 ls_mla_load4(const unsigned short* row, int c) {
    const uint2 u = *reinterpret_cast<const uint2*>(row + c);   /* one 8-byte shared load */
    return float4{__uint_as_float(u.x << 16), __uint_as_float(u.x & 0xffff0000u),
                  __uint_as_float(u.y << 16), __uint_as_float(u.y & 0xffff0000u)};
}

/* One element copied global -> shared where 16-byte copies do not fit the row: cp.async has no 2-byte form, so
 * bf16 takes a plain load and store (made visible by the same barrier that publishes the tile). */
__device__ __forceinline__ void ls_mla_copy1(float* dst, const float* src) {
    __pipeline_memcpy_async(dst, src, 4);
}
__device__ __forceinline__ void ls_mla_copy1(unsigned short* dst, const unsigned short* src) {
    *dst = *src;
}

/*
 * The block's work over a cache of element type T (float or unsigned short = bf16 bits); tile is the dynamic
 * shared memory, weights the static per-warp softmax numerators.
 */
template <typename T>
__device__ __forceinline__ void ls_mla_decode_body(const LsMlaDecodeParams& p, T* tile,
                                                   float (&weights)[LS_MLA_DECODE_WARPS][32]) {
    /* tile: [LS_MLA_STAGES][LS_MLA_TILE, qkPad] latent rows, one buffer per pipeline stage */
    constexpr int PER16 = 16 / static_cast<int>(sizeof(T));   /* values in 16 bytes: 4 f32 or 8 bf16 */

    const int b = blockIdx.x;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int qk = p.r + p.dr;
    /* Shared rows padded to 16 bytes so every row starts 16-byte aligned for 16-byte copies and 4-value reads;
     * the pad columns are zeroed once below and never written by the copies. */
    const int qkPad = (qk + PER16 - 1) & ~(PER16 - 1);
    const int* work = reinterpret_cast<const int*>(p.work) + 4 * static_cast<long long>(b);
    const int row = work[0];
    if (row < 0) {
        return;   /* padding item (the plan pads its items to a power of two: one launch shape per bucket) */
    }
    const int seq = work[1];
    const int start = work[2];
    const int end = work[3];

    /* The warp's heads; a head at or past numHeads is idle (zero query, nothing written). */
    const int h0 = blockIdx.y * LS_MLA_HEADS_PER_BLOCK + warp * LS_MLA_HEADS_PER_WARP;
    const bool warpActive = h0 < p.numHeads;

    float q[LS_MLA_HEADS_PER_WARP][4 * LS_MLA_QK4];   /* dim 4*lane + 128*i + k at q[hh][4*i + k]; 0 past qk */
#pragma unroll
    for (int hh = 0; hh < LS_MLA_HEADS_PER_WARP; hh++) {
        const bool on = h0 + hh < p.numHeads;
        const float* qh = reinterpret_cast<const float*>(p.q) + static_cast<long long>(row) * p.qStride
                + static_cast<long long>(on ? h0 + hh : 0) * p.qHeadStride;
#pragma unroll
        for (int i = 0; i < LS_MLA_QK4; i++) {
#pragma unroll
            for (int k = 0; k < 4; k++) {
                const int c = 4 * lane + 128 * i + k;
                q[hh][4 * i + k] = on && c < qk ? qh[c] : 0.0f;
            }
        }
    }

    float m[LS_MLA_HEADS_PER_WARP];   /* running max of the head's scores (warp-uniform) */
    float l[LS_MLA_HEADS_PER_WARP];   /* running sum of exp(score - m) (warp-uniform) */
    float acc[LS_MLA_HEADS_PER_WARP][4 * LS_MLA_V4];   /* value column 4*lane + 128*j + k at acc[hh][4*j + k] */
#pragma unroll
    for (int hh = 0; hh < LS_MLA_HEADS_PER_WARP; hh++) {
        m[hh] = -INFINITY;
        l[hh] = 0.0f;
#pragma unroll
        for (int j = 0; j < 4 * LS_MLA_V4; j++) {
            acc[hh][j] = 0.0f;
        }
    }

    const T* cache = reinterpret_cast<const T*>(p.cache);
    /* 16-byte copies when every row start is 16-byte aligned (576-wide f32 and bf16 rows are); else per value. */
    const bool vec16 = qk % PER16 == 0 && p.cacheStride % PER16 == 0 && (p.cache & 15) == 0;
    /* This lane's (row, head) pair after the reduce-scatter: lanes 0..15 head 0, 16..31 head 1. */
    const int myHead = lane / LS_MLA_TILE;
    const int myRow = lane % LS_MLA_TILE;

    /*
     * Tiles stream through LS_MLA_STAGES shared-memory buffers with cp.async (global -> shared without a
     * register round trip and without the thread waiting): while tile t is computed, tiles t+1 ..
     * t+STAGES-1 are in flight. Before, each tile was loaded synchronously (every warp waited out the memory
     * latency of its rows, then computed while no load was outstanding), so one resident block per SM kept
     * the SM alternately idle on memory and on arithmetic. Tile t lives in buffer t % STAGES.
     */
    const int numTiles = (end - start + LS_MLA_TILE - 1) / LS_MLA_TILE;
    const int tileValues = LS_MLA_TILE * qkPad;
    /* Zero pad columns: a float4 read covers them, and uninitialised shared memory may hold NaN (0 * NaN). */
    for (int i = threadIdx.x; i < LS_MLA_STAGES * LS_MLA_TILE * (qkPad - qk); i += LS_MLA_THREADS) {
        const int rowIdx = i / (qkPad - qk);
        tile[rowIdx * qkPad + qk + i % (qkPad - qk)] = T(0);
    }
    /* Every thread issues its share of tile t's rows (warp w copies rows w, w + WARPS, ...) and commits one
     * group, empty past the last tile, so each thread's group count is the same and wait_prior is exact. */
    auto issueTile = [&](int t) {
        if (t < numTiles) {
            const int t0 = start + t * LS_MLA_TILE;
            const int valid = min(LS_MLA_TILE, end - t0);
            T* buf = tile + (t % LS_MLA_STAGES) * tileValues;
            for (int s = warp; s < valid; s += LS_MLA_DECODE_WARPS) {
                const T* src = cache + ls_mla_key_row(p, seq, t0 + s) * p.cacheStride;
                T* dst = buf + s * qkPad;
                if (vec16) {
                    for (int c = PER16 * lane; c < qk; c += PER16 * 32) {
                        __pipeline_memcpy_async(dst + c, src + c, 16);
                    }
                } else {
                    for (int c = lane; c < qk; c += 32) {
                        ls_mla_copy1(dst + c, src + c);
                    }
                }
            }
        }
        __pipeline_commit();
    };
#pragma unroll
    for (int t = 0; t < LS_MLA_STAGES - 1; t++) {
        issueTile(t);
    }

    for (int t = 0; t < numTiles; t++) {
        const int t0 = start + t * LS_MLA_TILE;
        const int valid = min(LS_MLA_TILE, end - t0);
        /* This thread's copies of tile t have landed (at most STAGES-2 younger groups still pending) ... */
        __pipeline_wait_prior(LS_MLA_STAGES - 2);
        /* ... and everyone's: tile t is complete in shared memory. The same barrier means every warp is done
         * with tile t-1, whose buffer ((t-1) % STAGES == (t+STAGES-1) % STAGES) is refilled right below. */
        __syncthreads();
        issueTile(t + LS_MLA_STAGES - 1);
        const T* cur = tile + (t % LS_MLA_STAGES) * tileValues;
        if (!warpActive) {
            continue;
        }

        /* Partial dot products of the 32 (row, head) pairs over this lane's dims; index hh * TILE + s. */
        float part[32];
#pragma unroll
        for (int s = 0; s < LS_MLA_TILE; s++) {
            float d[LS_MLA_HEADS_PER_WARP];
#pragma unroll
            for (int hh = 0; hh < LS_MLA_HEADS_PER_WARP; hh++) {
                d[hh] = 0.0f;
            }
            if (s < valid) {
                const T* k = cur + s * qkPad;
#pragma unroll
                for (int i = 0; i < LS_MLA_QK4; i++) {
                    const int c = 4 * lane + 128 * i;
                    if (c < qkPad) {   /* past it: the next row (or past the buffer); q is 0 there anyway */
                        const float4 kv = ls_mla_load4(k, c);
#pragma unroll
                        for (int hh = 0; hh < LS_MLA_HEADS_PER_WARP; hh++) {
                            d[hh] = fmaf(q[hh][4 * i], kv.x, d[hh]);
                            d[hh] = fmaf(q[hh][4 * i + 1], kv.y, d[hh]);
                            d[hh] = fmaf(q[hh][4 * i + 2], kv.z, d[hh]);
                            d[hh] = fmaf(q[hh][4 * i + 3], kv.w, d[hh]);
                        }
                    }
                }
            }
#pragma unroll
            for (int hh = 0; hh < LS_MLA_HEADS_PER_WARP; hh++) {
                part[hh * LS_MLA_TILE + s] = d[hh];
            }
        }
        /* Warp-collective: every lane takes part, then rows past the chunk get score -inf. */
        const float dot = ls_warp_reduce_scatter(part);
        const float score = myRow < valid ? dot * p.scale : -INFINITY;

        /* Tile max and sum per head: xor offsets below 16 stay within the head's 16 lanes. */
        float tileMax = score;
#pragma unroll
        for (int off = LS_MLA_TILE / 2; off > 0; off >>= 1) {
            tileMax = fmaxf(tileMax, __shfl_xor_sync(LS_FULL_MASK, tileMax, off));
        }
        const float mMine = myHead == 0 ? m[0] : m[1];
        const float mNewMine = fmaxf(mMine, tileMax);
        const float e = ls_exp_f(score - mNewMine);   /* 0 for a row past the chunk (score -inf) */
        float tileSum = e;
#pragma unroll
        for (int off = LS_MLA_TILE / 2; off > 0; off >>= 1) {
            tileSum += __shfl_xor_sync(LS_FULL_MASK, tileSum, off);
        }
        const float mNewOther = __shfl_xor_sync(LS_FULL_MASK, mNewMine, LS_MLA_TILE);
        const float sumOther = __shfl_xor_sync(LS_FULL_MASK, tileSum, LS_MLA_TILE);
        weights[warp][lane] = e;
        __syncwarp();
        float mNew[LS_MLA_HEADS_PER_WARP];
        float sum[LS_MLA_HEADS_PER_WARP];
        mNew[0] = myHead == 0 ? mNewMine : mNewOther;
        mNew[1] = myHead == 0 ? mNewOther : mNewMine;
        sum[0] = myHead == 0 ? tileSum : sumOther;
        sum[1] = myHead == 0 ? sumOther : tileSum;
#pragma unroll
        for (int hh = 0; hh < LS_MLA_HEADS_PER_WARP; hh++) {
            const float correction = ls_exp_f(m[hh] - mNew[hh]);   /* 0 on the first tile (m = -inf) */
            l[hh] = l[hh] * correction + sum[hh];
            m[hh] = mNew[hh];
#pragma unroll
            for (int j = 0; j < 4 * LS_MLA_V4; j++) {
                acc[hh][j] *= correction;
            }
        }
        /* acc += weight(row, head) * value(row); the value is the first r columns of the latent row. */
        for (int s = 0; s < valid; s++) {
            const T* v = cur + s * qkPad;
            const float w0 = weights[warp][s];
            const float w1 = weights[warp][LS_MLA_TILE + s];
#pragma unroll
            for (int j = 0; j < LS_MLA_V4; j++) {
                /* c < r <= qkPad and both multiples of 4 (c) or rounded up (qkPad): the float4 stays in the row;
                 * its columns at or past r (rope values) feed accumulators that are never written out. */
                const int c = 4 * lane + 128 * j;
                if (c < p.r) {
                    const float4 x = ls_mla_load4(v, c);
                    acc[0][4 * j] = fmaf(w0, x.x, acc[0][4 * j]);
                    acc[0][4 * j + 1] = fmaf(w0, x.y, acc[0][4 * j + 1]);
                    acc[0][4 * j + 2] = fmaf(w0, x.z, acc[0][4 * j + 2]);
                    acc[0][4 * j + 3] = fmaf(w0, x.w, acc[0][4 * j + 3]);
                    acc[1][4 * j] = fmaf(w1, x.x, acc[1][4 * j]);
                    acc[1][4 * j + 1] = fmaf(w1, x.y, acc[1][4 * j + 1]);
                    acc[1][4 * j + 2] = fmaf(w1, x.z, acc[1][4 * j + 2]);
                    acc[1][4 * j + 3] = fmaf(w1, x.w, acc[1][4 * j + 3]);
                }
            }
        }
        __syncwarp();   /* weights[warp] is rewritten by the next tile */
    }
    if (!warpActive) {
        return;
    }

    /* One split: the final normalised row straight into out. Several: the partial for ls_mla_combine. */
    const int* splitBase = reinterpret_cast<const int*>(p.splitBase);
    const bool single = splitBase[row + 1] - splitBase[row] == 1;
#pragma unroll
    for (int hh = 0; hh < LS_MLA_HEADS_PER_WARP; hh++) {
        const int h = h0 + hh;
        if (h >= p.numHeads) {
            continue;
        }
        if (single) {
            const float invL = 1.0f / l[hh];
            float* out = reinterpret_cast<float*>(p.out) + static_cast<long long>(row) * p.outStride
                    + static_cast<long long>(h) * p.outHeadStride;
#pragma unroll
            for (int j = 0; j < 4 * LS_MLA_V4; j++) {
                const int c = 4 * lane + 128 * (j / 4) + j % 4;
                if (c < p.r) {
                    out[c] = acc[hh][j] * invL;
                }
            }
        } else {
            const long long slot = static_cast<long long>(b) * p.numHeads + h;
            float* out = reinterpret_cast<float*>(p.partialAcc) + slot * p.r;
#pragma unroll
            for (int j = 0; j < 4 * LS_MLA_V4; j++) {
                const int c = 4 * lane + 128 * (j / 4) + j % 4;
                if (c < p.r) {
                    out[c] = acc[hh][j];
                }
            }
            if (lane == 0) {
                reinterpret_cast<float*>(p.partialMl)[2 * slot] = m[hh];
                reinterpret_cast<float*>(p.partialMl)[2 * slot + 1] = l[hh];
            }
        }
    }
}

/* minBlocks 1 said explicitly: left to itself ptxas aims at 128 registers (two blocks per SM) and spills;
 * with it, ~167 registers (the f32 and bf16 bodies in one kernel; 148 with the f32 one alone) and no local
 * memory. Either way one 256-thread block per SM, as registers already allowed no more. */
extern "C" __global__ void __launch_bounds__(LS_MLA_THREADS, 1) ls_mla_decode(const LsMlaDecodeParams p) {
    extern __shared__ __align__(16) float smem[];   /* cp.async 16-byte copies and 16-byte rows need it */
    __shared__ float weights[LS_MLA_DECODE_WARPS][32];    /* softmax numerators of a tile, per warp */
    if (p.cacheDtype == LS_DTYPE_BF16) {   /* uniform over the launch */
        ls_mla_decode_body(p, reinterpret_cast<unsigned short*>(smem), weights);
    } else {
        ls_mla_decode_body(p, smem, weights);
    }
}

/*
 * out = sum_k exp(m_k - M) acc_k / sum_k exp(m_k - M) l_k over the splits k of the row (M = max m_k):
 * the exact softmax over the union of the chunks. Rows of one split were written by ls_mla_decode.
 */
extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_mla_combine(const LsMlaCombineParams p) {
    __shared__ float factor[LS_MLA_MAX_SPLITS];
    const int row = blockIdx.x;
    const int h = blockIdx.y;
    const int* splitBase = reinterpret_cast<const int*>(p.splitBase);
    const int first = splitBase[row];
    const int splits = splitBase[row + 1] - first;
    if (splits <= 1) {
        return;
    }
    const float* ml = reinterpret_cast<const float*>(p.partialMl);
    if (threadIdx.x == 0) {
        float mAll = -INFINITY;
        for (int k = 0; k < splits; k++) {
            mAll = fmaxf(mAll, ml[2 * ((static_cast<long long>(first) + k) * p.numHeads + h)]);
        }
        float lAll = 0.0f;
        for (int k = 0; k < splits; k++) {
            const long long slot = (static_cast<long long>(first) + k) * p.numHeads + h;
            factor[k] = ls_exp_f(ml[2 * slot] - mAll);
            lAll += ml[2 * slot + 1] * factor[k];
        }
        const float invL = 1.0f / lAll;
        for (int k = 0; k < splits; k++) {
            factor[k] *= invL;
        }
    }
    __syncthreads();
    const float* acc = reinterpret_cast<const float*>(p.partialAcc);
    float* out = reinterpret_cast<float*>(p.out) + static_cast<long long>(row) * p.outStride
            + static_cast<long long>(h) * p.outHeadStride;
    for (int c = threadIdx.x; c < p.r; c += blockDim.x) {
        float o = 0.0f;
        for (int k = 0; k < splits; k++) {
            o = fmaf(acc[((static_cast<long long>(first) + k) * p.numHeads + h) * p.r + c], factor[k], o);
        }
        out[c] = o;
    }
}

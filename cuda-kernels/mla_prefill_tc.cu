/*
 * ls_mla_prefill_tc: MLA prefill attention (MODEL_SPEC 3.1, decompressed keys) in the FlashAttention-2 form on
 * tensor cores: per block one head and up to LS_MLA_PF_QUERIES consecutive queries of one sequence; key tiles
 * stream through shared memory, scores and probabilities stay in registers, each output row is written once.
 *
 * Why: the cuBLAS path (CudaAttention.gemmAttention) writes an f32 [heads, chunk, context] score tensor per
 * query chunk and passes over it ~10 times (3 + 3 hi/lo GEMM terms, softmax, split, 3 P.V terms); the short-
 * chunk path (ls_attention) re-reads every key for every query on CUDA cores. Here a key tile is read once per
 * 64 queries and feeds m16n8k16 products straight into an online softmax.
 *
 * Tiling (LS_MLA_PF_*):
 *   - 4 warps x 16 query rows (the mma's M) = 64 queries per block. Each warp keeps its rows' Q hi as bf16 A
 *     fragments in registers for the whole block (dn + dr = 192: 12 k-steps x 4 registers; the lo halves sit in
 *     shared memory, 25 KB, read back by ldmatrix), its 16 x dv f32 accumulators (dv = 128: 64 registers) and
 *     the 16 x 32 scores of the current tile (16 registers): 199 registers on sm_90a, no spills. The
 *     score accumulators of two adjacent n8 key blocks are exactly the A fragment of P for one k-step of 16
 *     keys, so P never goes through shared memory (the FA-2 register trick).
 *   - Key tiles of 32 keys: K rows [k_nope | k_rope] and V rows, bf16 hi (+ lo), rows padded by 8 values (an
 *     odd number of 16-byte units: ldmatrix reads 8 rows in 8 different bank quads). A stage is 42 KB at
 *     192 + 128 with both halves; 2 stages (double buffer by cp.async) + Q lo = 109 KB, so two blocks (8 warps)
 *     fit an H100/H200 SM's 228 KB and one block's loads and softmax overlap the other's mma. 64-key tiles would
 *     halve the barriers but at 193 KB allow one block per SM, and take 16 more score registers per thread.
 *   - The block reads keys up to its last query's position only (work item's key end: the causal skip); a
 *     warp skips the products of a tile none of its rows sees; the diagonal tiles are masked per element.
 *   - Work items are ordered longest first by the host (CudaAttention): the heavy diagonal-far tiles start
 *     early, the short ones fill the tail. grid x = heads, so the 16 heads of one item run side by side and
 *     share the rope keys in L2.
 * Precision: terms 3 = S = Qhi.Khi + Qlo.Khi + Qhi.Klo and O += Phi.Vhi + Plo.Vhi + Phi.Vlo, accumulated in f32
 * (the lo.lo terms are below 2^-16 relative): f32-level accuracy like the cuBLAS path. terms 1: hi.hi only.
 * Scores scaled after the product as the CPU backend does, masked keys -inf, exp in f32 (ls_mla_pf_exp). Every row sees key 0 in the first tile, so its running max is finite from then on (no inf - inf).
 */
#include "include/ls_common.cuh"
#ifdef __CUDACC__
#include <cuda_pipeline_primitives.h>
#endif

#define LS_MLA_PF_THREADS (32 * LS_MLA_PF_WARPS)
/* k-steps (16 dims) of Q.K^T at most: Q fragments each lane holds. */
#define LS_MLA_PF_QSTEPS (LS_MLA_PF_MAX_QK / 16)
/* n8 column blocks of O at most: accumulators each lane holds. */
#define LS_MLA_PF_VBLOCKS (LS_MLA_PF_MAX_DV / 8)
/* n8 key blocks of one tile's scores, and k-steps of P.V over one tile. */
#define LS_MLA_PF_KBLOCKS (LS_MLA_PF_KEYS / 8)
#define LS_MLA_PF_PSTEPS (LS_MLA_PF_KEYS / 16)

static_assert(LS_MLA_PF_QUERIES == 16 * LS_MLA_PF_WARPS, "each warp owns the 16 query rows of one mma M");
static_assert(LS_MLA_PF_KEYS % 16 == 0, "keys of a tile: whole k-steps of P.V, ldmatrix.x4 pairs of n8 blocks");
static_assert(LS_MLA_PF_MAX_QK % 16 == 0 && LS_MLA_PF_MAX_DV % 16 == 0, "k-steps and column pairs of 16");
static_assert(LS_MLA_PF_STAGES >= 2, "a ring of at least two tile buffers");

/* Two f32 values as bf16 hi (round to nearest) and lo = bf16(x - hi) pairs: x = hi + lo + O(2^-17 |x|). */
__device__ __forceinline__ void ls_mla_pf_split(float x0, float x1, unsigned& hi, unsigned& lo) {
    const unsigned short h0 = ls_to_bf16(x0);
    const unsigned short h1 = ls_to_bf16(x1);
    hi = static_cast<unsigned>(h0) | (static_cast<unsigned>(h1) << 16);
    lo = ls_pack_bf16x2(x0 - ls_bf16_to_float(h0), x1 - ls_bf16_to_float(h1));   /* differences exact in f32 */
}

/*
 * exp for the softmax: CUDA's expf (not the fast-math __expf; at most 2 ulp from exact), not ls_exp_f's f64
 * exp that the CUDA-core kernels use. Here 18 exps per lane per tile are unrolled side by side, and the f64
 * ones took ~60 more registers (sm_90a spilled at 255) and double-precision issue slots comparable to the
 * tile's mma work with terms 1; 2 ulp is far below the 2^-17 of the operand split.
 */
__device__ __forceinline__ float ls_mla_pf_exp(float x) {
    return expf(x);
}

/* Two blocks per SM (shared memory allows two at 192 + 128): at most 255 registers a thread. */
extern "C" __global__ void __launch_bounds__(LS_MLA_PF_THREADS, 2) ls_mla_prefill_tc(const LsMlaPrefillTcParams p) {
    extern __shared__ __align__(16) float smem[];   /* cp.async 16-byte copies, ldmatrix rows */
    unsigned short* ring = reinterpret_cast<unsigned short*>(smem);

    const int head = blockIdx.x;
    const int* item = reinterpret_cast<const int*>(p.work) + 4 * static_cast<long long>(blockIdx.y);
    const int firstRow = item[0];
    const int count = item[1];
    const int keyBase = item[2];
    const int keyEnd = item[3];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int g = lane >> 2;   /* fragment rows g and g + 8 of the warp's 16 */
    const int t4 = lane & 3;
    const bool both = p.terms != 1;
    const int qk = p.dn + p.dr;
    const int kSteps = qk / 16;
    const int colPairs = p.dv / 16;
    /* Shared layout of one stage: K hi [KEYS][kPad], V hi [KEYS][vPad], then (terms 3) the same for lo. */
    const int kPad = qk + 8;
    const int vPad = p.dv + 8;
    const int halfElems = LS_MLA_PF_KEYS * (kPad + vPad);
    const int stageElems = (both ? 2 : 1) * halfElems;

    /* This lane's two query rows (block rows 16 warp + g, + 8); rows past the item are zero queries at position
     * 0 (they see key 0 only, so nothing is undefined) and are never written. */
    const int r0 = 16 * warp + g;
    const int r1 = r0 + 8;
    const bool on0 = r0 < count;
    const bool on1 = r1 < count;
    const int* positions = reinterpret_cast<const int*>(p.positions);
    const int pos0 = on0 ? positions[firstRow + r0] : 0;
    const int pos1 = on1 ? positions[firstRow + r1] : 0;
    int warpLast = pos0 > pos1 ? pos0 : pos1;
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
        const int other = __shfl_xor_sync(LS_FULL_MASK, warpLast, off);
        warpLast = other > warpLast ? other : warpLast;
    }

    /* Q as A fragments: a[0] (row g, cols 2t4, +1), a[1] (row g + 8), a[2], a[3] the same 8 columns on. The hi
     * halves stay in registers; the lo halves (terms 3) go to shared memory, rows of qk + 8 values, and come
     * back by ldmatrix per k-step: 48 registers fewer, which keeps the kernel within 255 without spilling. */
    unsigned qHi[LS_MLA_PF_QSTEPS][4];
    unsigned short* qLoS = ring + LS_MLA_PF_STAGES * stageElems;   /* [QUERIES][kPad] bf16, terms 3 only */
    {
        const float* q = reinterpret_cast<const float*>(p.q);
        const float* q0 = q + static_cast<long long>(firstRow + (on0 ? r0 : 0)) * p.qStride
                + static_cast<long long>(head) * p.qHeadStride;
        const float* q1 = q + static_cast<long long>(firstRow + (on1 ? r1 : 0)) * p.qStride
                + static_cast<long long>(head) * p.qHeadStride;
#pragma unroll
        for (int j = 0; j < LS_MLA_PF_QSTEPS; j++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                const bool upper = (i & 1) != 0;
                const int c = 16 * j + 2 * t4 + 8 * (i >> 1);
                const bool on = j < kSteps && (upper ? on1 : on0);
                const float* qr = upper ? q1 : q0;
                unsigned lo;
                ls_mla_pf_split(on ? qr[c] : 0.0f, on ? qr[c + 1] : 0.0f, qHi[j][i], lo);
                if (both && j < kSteps) {
                    *reinterpret_cast<unsigned*>(qLoS + (upper ? r1 : r0) * kPad + c) = lo;
                }
            }
        }
    }
    /* (made visible to the warp by the first tile's barrier) */

    float o[LS_MLA_PF_VBLOCKS][4];
#pragma unroll
    for (int n = 0; n < LS_MLA_PF_VBLOCKS; n++) {
#pragma unroll
        for (int k = 0; k < 4; k++) {
            o[n][k] = 0.0f;
        }
    }
    float m0 = -INFINITY;
    float m1 = -INFINITY;
    float l0 = 0.0f;   /* this lane's share of row g's sum (its 2 columns of each n8 block) */
    float l1 = 0.0f;

    const bool vec = (p.kvStride & 7) == 0 && (p.kvHeadStride & 7) == 0 && (p.ropeStride & 7) == 0
            && (p.kvHi & 15) == 0 && (p.ropeHi & 15) == 0 && (!both || ((p.kvLo & 15) == 0 && (p.ropeLo & 15) == 0));
    const int nopePieces = p.dn >> 3;
    const int kPieces = qk >> 3;
    const int rowPieces = kPieces + (p.dv >> 3);   /* 16-byte pieces of one key: K, then V */
    const int halfPieces = LS_MLA_PF_KEYS * rowPieces;
    const int numTiles = (keyEnd + LS_MLA_PF_KEYS - 1) / LS_MLA_PF_KEYS;
    const long long headOffset = static_cast<long long>(head) * p.kvHeadStride;

    /* Every thread issues its share of tile t's pieces and commits one group (empty past the last tile), so
     * each thread's group count is the same and wait_prior is exact. Keys past the item's end are zeroed: P is
     * 0 there, but 0 times stale bits could be NaN in P.V. */
    auto issueTile = [&](int t) {
        if (t < numTiles) {
            const int t0 = t * LS_MLA_PF_KEYS;
            const int valid = min(LS_MLA_PF_KEYS, keyEnd - t0);
            unsigned short* buf = ring + (t % LS_MLA_PF_STAGES) * stageElems;
            const int total = (both ? 2 : 1) * halfPieces;
            for (int i = threadIdx.x; i < total; i += LS_MLA_PF_THREADS) {
                const int half = i >= halfPieces ? 1 : 0;
                const int rem = i - half * halfPieces;
                const int s = rem / rowPieces;
                const int c = rem - s * rowPieces;
                unsigned short* dst = buf + half * halfElems
                        + (c < kPieces ? s * kPad + 8 * c : LS_MLA_PF_KEYS * kPad + s * vPad + 8 * (c - kPieces));
                if (s < valid) {
                    const long long key = keyBase + t0 + s;
                    const bool rope = c >= nopePieces && c < kPieces;
                    const ls_ptr base = rope ? (half ? p.ropeLo : p.ropeHi) : (half ? p.kvLo : p.kvHi);
                    const long long offset = rope ? key * p.ropeStride + 8 * (c - nopePieces)
                            : key * p.kvStride + headOffset + (c < kPieces ? 8 * c : p.dn + 8 * (c - kPieces));
                    const unsigned short* src = reinterpret_cast<const unsigned short*>(base) + offset;
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
#pragma unroll
    for (int t = 0; t < LS_MLA_PF_STAGES - 1; t++) {
        issueTile(t);
    }

    const int mi = lane >> 3;   /* ldmatrix: lane l addresses row l % 8 of matrix l / 8 */
    const unsigned short* qLoRow = qLoS + (16 * warp + (lane & 7) + 8 * (mi & 1)) * kPad + 8 * (mi >> 1);
    for (int t = 0; t < numTiles; t++) {
        /* This thread's copies of tile t have landed; the barrier makes them everyone's, and means every warp
         * is done with tile t - 1, whose buffer is refilled right below. */
        __pipeline_wait_prior(LS_MLA_PF_STAGES - 2);
        __syncthreads();
        issueTile(t + LS_MLA_PF_STAGES - 1);
        const int t0 = t * LS_MLA_PF_KEYS;
        if (t0 > warpLast) {
            continue;   /* warp-uniform: none of this warp's rows sees a key of the tile (the barriers go on) */
        }
        const unsigned short* cur = ring + (t % LS_MLA_PF_STAGES) * stageElems;

        /* S = Q.K^T: ldmatrix matrices (keys +0, dims +0), (+0, +8), (+8, +0), (+8, +8) = b[0], b[1] of the
         * two n8 key blocks of each 16 keys. */
        float s[LS_MLA_PF_KBLOCKS][4];
#pragma unroll
        for (int n = 0; n < LS_MLA_PF_KBLOCKS; n++) {
#pragma unroll
            for (int k = 0; k < 4; k++) {
                s[n][k] = 0.0f;
            }
        }
        const unsigned short* kRow = cur + ((lane & 7) + 8 * (mi >> 1)) * kPad + 8 * (mi & 1);
#pragma unroll
        for (int j = 0; j < LS_MLA_PF_QSTEPS; j++) {
            if (j < kSteps) {   /* warp-uniform */
                unsigned qLo[4];
                if (both) {   /* A fragment: matrices (rows +0, cols +0), (+8, +0), (+0, +8), (+8, +8) */
                    ls_ldmatrix_x4(qLo, qLoRow + 16 * j);
                }
#pragma unroll
                for (int kp = 0; kp < LS_MLA_PF_KBLOCKS / 2; kp++) {
                    unsigned kb[4];
                    ls_ldmatrix_x4(kb, kRow + 16 * kp * kPad + 16 * j);
                    const unsigned b0[2] = {kb[0], kb[1]};
                    const unsigned b1[2] = {kb[2], kb[3]};
                    ls_mma_bf16_16816(s[2 * kp], qHi[j], b0, s[2 * kp]);
                    ls_mma_bf16_16816(s[2 * kp + 1], qHi[j], b1, s[2 * kp + 1]);
                    if (both) {   /* uniform */
                        ls_mma_bf16_16816(s[2 * kp], qLo, b0, s[2 * kp]);
                        ls_mma_bf16_16816(s[2 * kp + 1], qLo, b1, s[2 * kp + 1]);
                        unsigned kl[4];
                        ls_ldmatrix_x4(kl, kRow + halfElems + 16 * kp * kPad + 16 * j);
                        const unsigned c0[2] = {kl[0], kl[1]};
                        const unsigned c1[2] = {kl[2], kl[3]};
                        ls_mma_bf16_16816(s[2 * kp], qHi[j], c0, s[2 * kp]);
                        ls_mma_bf16_16816(s[2 * kp + 1], qHi[j], c1, s[2 * kp + 1]);
                    }
                }
            }
        }

        /* Online softmax over the tile: scale, causal mask, row max over the quad (the 4 lanes of a row). */
        float mx0 = -INFINITY;
        float mx1 = -INFINITY;
#pragma unroll
        for (int n = 0; n < LS_MLA_PF_KBLOCKS; n++) {
            const int key = t0 + 8 * n + 2 * t4;
            s[n][0] = key <= pos0 ? s[n][0] * p.scale : -INFINITY;
            s[n][1] = key + 1 <= pos0 ? s[n][1] * p.scale : -INFINITY;
            s[n][2] = key <= pos1 ? s[n][2] * p.scale : -INFINITY;
            s[n][3] = key + 1 <= pos1 ? s[n][3] * p.scale : -INFINITY;
            mx0 = fmaxf(mx0, fmaxf(s[n][0], s[n][1]));
            mx1 = fmaxf(mx1, fmaxf(s[n][2], s[n][3]));
        }
#pragma unroll
        for (int off = 1; off < 4; off <<= 1) {
            mx0 = fmaxf(mx0, __shfl_xor_sync(LS_FULL_MASK, mx0, off));
            mx1 = fmaxf(mx1, __shfl_xor_sync(LS_FULL_MASK, mx1, off));
        }
        const float mNew0 = fmaxf(m0, mx0);   /* finite: tile 0 holds key 0, which every row sees */
        const float mNew1 = fmaxf(m1, mx1);
        const float corr0 = ls_mla_pf_exp(m0 - mNew0);   /* 0 on the first tile (m = -inf) */
        const float corr1 = ls_mla_pf_exp(m1 - mNew1);
        m0 = mNew0;
        m1 = mNew1;
        float sum0 = 0.0f;
        float sum1 = 0.0f;
#pragma unroll
        for (int n = 0; n < LS_MLA_PF_KBLOCKS; n++) {
            s[n][0] = ls_mla_pf_exp(s[n][0] - mNew0);   /* 0 where masked */
            s[n][1] = ls_mla_pf_exp(s[n][1] - mNew0);
            s[n][2] = ls_mla_pf_exp(s[n][2] - mNew1);
            s[n][3] = ls_mla_pf_exp(s[n][3] - mNew1);
            sum0 += s[n][0] + s[n][1];
            sum1 += s[n][2] + s[n][3];
        }
        l0 = l0 * corr0 + sum0;
        l1 = l1 * corr1 + sum1;
#pragma unroll
        for (int n = 0; n < LS_MLA_PF_VBLOCKS; n++) {
            o[n][0] *= corr0;
            o[n][1] *= corr0;
            o[n][2] *= corr1;
            o[n][3] *= corr1;
        }

        /* O += P.V: the scores of key blocks 2kk, 2kk + 1 are P's A fragment for k-step kk; V's B fragments by
         * ldmatrix.trans, matrices (keys +0, cols +0), (+8, +0), (+0, +8), (+8, +8) = b[0], b[1] of the pair's
         * two n8 column blocks. */
        const unsigned short* vRow = cur + LS_MLA_PF_KEYS * kPad + ((lane & 7) + 8 * (mi & 1)) * vPad + 8 * (mi >> 1);
#pragma unroll
        for (int kk = 0; kk < LS_MLA_PF_PSTEPS; kk++) {
            unsigned aHi[4];
            unsigned aLo[4];
            ls_mla_pf_split(s[2 * kk][0], s[2 * kk][1], aHi[0], aLo[0]);
            ls_mla_pf_split(s[2 * kk][2], s[2 * kk][3], aHi[1], aLo[1]);
            ls_mla_pf_split(s[2 * kk + 1][0], s[2 * kk + 1][1], aHi[2], aLo[2]);
            ls_mla_pf_split(s[2 * kk + 1][2], s[2 * kk + 1][3], aHi[3], aLo[3]);
#pragma unroll
            for (int pair = 0; pair < LS_MLA_PF_VBLOCKS / 2; pair++) {
                if (pair < colPairs) {   /* warp-uniform */
                    unsigned vb[4];
                    ls_ldmatrix_x4_trans(vb, vRow + 16 * kk * vPad + 16 * pair);
                    const unsigned b0[2] = {vb[0], vb[1]};
                    const unsigned b1[2] = {vb[2], vb[3]};
                    ls_mma_bf16_16816(o[2 * pair], aHi, b0, o[2 * pair]);
                    ls_mma_bf16_16816(o[2 * pair + 1], aHi, b1, o[2 * pair + 1]);
                    if (both) {
                        ls_mma_bf16_16816(o[2 * pair], aLo, b0, o[2 * pair]);
                        ls_mma_bf16_16816(o[2 * pair + 1], aLo, b1, o[2 * pair + 1]);
                        unsigned vl[4];
                        ls_ldmatrix_x4_trans(vl, vRow + halfElems + 16 * kk * vPad + 16 * pair);
                        const unsigned c0[2] = {vl[0], vl[1]};
                        const unsigned c1[2] = {vl[2], vl[3]};
                        ls_mma_bf16_16816(o[2 * pair], aHi, c0, o[2 * pair]);
                        ls_mma_bf16_16816(o[2 * pair + 1], aHi, c1, o[2 * pair + 1]);
                    }
                }
            }
        }
    }

    /* Row sums over the quad, then each lane writes its two columns of every n8 block of its rows. */
#pragma unroll
    for (int off = 1; off < 4; off <<= 1) {
        l0 += __shfl_xor_sync(LS_FULL_MASK, l0, off);
        l1 += __shfl_xor_sync(LS_FULL_MASK, l1, off);
    }
    float* out = reinterpret_cast<float*>(p.out);
    float* out0 = out + static_cast<long long>(firstRow + r0) * p.outStride + static_cast<long long>(head) * p.outHeadStride;
    float* out1 = out + static_cast<long long>(firstRow + r1) * p.outStride + static_cast<long long>(head) * p.outHeadStride;
#pragma unroll
    for (int n = 0; n < LS_MLA_PF_VBLOCKS; n++) {
        if (n < 2 * colPairs) {
            const int col = 8 * n + 2 * t4;
            if (on0) {
                out0[col] = o[n][0] / l0;
                out0[col + 1] = o[n][1] / l0;
            }
            if (on1) {
                out1[col] = o[n][2] / l1;
                out1[col + 1] = o[n][3] / l1;
            }
        }
    }
}

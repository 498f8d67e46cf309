/*
 * Tensor-core forms of the decode MoE's expert products (ls_moe_gate_up_tc, ls_moe_down_tc): the same inputs,
 * outputs and sorted layout as ls_moe_gate_up / ls_moe_down (moe.cu), for bf16 weights whose widths are
 * multiples of LS_MOE_TC_K. The CUDA-core kernels spend one FMA per weight value and token, so with tens of
 * tokens per expert they, not the weight reads, bound the call; mma.sync m16n8k16 takes the products off the
 * FMA pipes and leaves the kernels bound by the weight bytes, read once per call as before.
 *
 * Product of one warp: M = the expert's gathered rows, N = 8 output features (the warp's n-tile), K = the
 * input width. The f32 activations are split once per block into bf16 hi + lo in shared memory; one m-tile
 * holds 8 tokens, hi in its rows 0-7 and lo in rows 8-15, so that one mma gives both halves of the product
 * and a lane holds hi (c[0], c[1]) and lo (c[2], c[3]) of the same token and features: summed in f32 in the
 * epilogue, they are x.w within ~1e-5 of f32 arithmetic. For 8 or fewer tokens per expert (decode up to
 * ~64 tokens) that is half the mma of separate hi and lo tiles, and never more.
 *
 * K is permuted (a sum does not care about the order of its terms, as long as A and B agree): per step of 32
 * input values lane (g, t) loads 8 consecutive weights w[n0+g][k0+8t .. k0+8t+8) with one 16-byte load and
 * the matching 8 activations of its token g from shared memory, and feeds them to two mma as logical k
 * (2t, 2t+1, 2t+8, 2t+9) = physical k0 + 8t + (0, 1, 2, 3), then + (4, 5, 6, 7). Four lanes read 64
 * contiguous bytes of a weight row, every byte used; no weight goes through shared memory.
 */
#include "include/ls_common.cuh"

/* input values of one warp step: 4 lanes x 8 bf16, one 16-byte load each */
#define LS_MOE_TC_STEP 32
/* input values staged in shared memory at a time; the slice's weights are loaded into registers before the
 * staging barrier, so STEPS x MATS 16-byte loads per lane are in flight while the block stages x */
#define LS_MOE_TC_SLICE 256
#define LS_MOE_TC_STEPS (LS_MOE_TC_SLICE / LS_MOE_TC_STEP)
/* m-tiles of 8 tokens whose accumulators a warp keeps at a time (more tokens: the block walks the expert's
 * weights again, from L2, for each further LS_MOE_TC_TOKENS) */
#define LS_MOE_TC_TILES 4
#define LS_MOE_TC_TOKENS (LS_MOE_TC_TILES * 8)
/* bf16 per staged row: 576 bytes, 64 mod 128, so the 16-byte reads of tokens g and g+1 hit different banks */
#define LS_MOE_TC_ROW (LS_MOE_TC_SLICE + 32)

static_assert(LS_MOE_TC_FEATURES == (LS_THREADS / 32) * 8, "one mma n-tile of 8 output features per warp");
static_assert(LS_MOE_TC_K == 16 && LS_MOE_TC_SLICE % LS_MOE_TC_STEP == 0, "slices of whole steps");

/*
 * Stages the input rows [first, first + cnt) (input row of gathered row r: inIndex[r], or r without inIndex),
 * values [d0, d0 + len), as bf16 hi (xs[j * ROW + c]) and lo (xs[(TOKENS + j) * ROW + c]); rows cnt .. padded-1
 * of the last m-tile are zeros (their outputs are never written). len is even.
 */
__device__ __forceinline__ void ls_moe_tc_stage(unsigned short* xs, const float* in, int inStride, const int* inIndex,
                                                int first, int cnt, int padded, int d0, int len) {
    const int pairs = len / 2;
    for (int idx = threadIdx.x; idx < padded * pairs; idx += blockDim.x) {
        const int j = idx / pairs;
        const int c = (idx - j * pairs) * 2;
        unsigned hi = 0;
        unsigned lo = 0;
        if (j < cnt) {
            const long long src = inIndex != nullptr ? inIndex[first + j] : first + j;
            const float a = in[src * inStride + d0 + c];
            const float b = in[src * inStride + d0 + c + 1];
            const unsigned short ha = ls_to_bf16(a);
            const unsigned short hb = ls_to_bf16(b);
            hi = static_cast<unsigned>(ha) | (static_cast<unsigned>(hb) << 16);
            /* x - bf16(x) is exact in f32; its bf16 rounding leaves about 2^-17 of x */
            lo = ls_pack_bf16x2(a - ls_bf16_to_float(ha), b - ls_bf16_to_float(hb));
        }
        *reinterpret_cast<unsigned*>(xs + j * LS_MOE_TC_ROW + c) = hi;
        *reinterpret_cast<unsigned*>(xs + (LS_MOE_TC_TOKENS + j) * LS_MOE_TC_ROW + c) = lo;
    }
}

/*
 * The rows [first, first + n) of one expert through MATS bf16 weights ([outFeatures, inCols] row-major): warp w
 * computes features n0 .. n0+7 (n0 = (blockIdx.y * warps + w) * 8) of each weight for every row. MATS 2:
 * out = silu(x.w0) * (x.w1) (gate, up); MATS 1: out = x.w0. outFeatures % 8 == 0, inCols % 16 == 0; weight rows
 * wStride values apart (a multiple of 8: 16-byte loads).
 */
template <int MATS>
__device__ __forceinline__ void ls_moe_tc_rows(unsigned short* xs, const float* in, int inStride, const int* inIndex,
                                               int inCols, const unsigned short* w0, const unsigned short* w1,
                                               int wStride, int outFeatures, int first, int n, float* out,
                                               int outStride) {
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int g = lane >> 2;
    const int t = lane & 3;
    const int n0 = (blockIdx.y * (blockDim.x >> 5) + warp) * 8;
    const bool active = n0 < outFeatures; /* warp-uniform: whole n-tiles; idle warps still stage and meet */
    const unsigned short* wrow[2] = {w0 + static_cast<long long>(active ? n0 + g : 0) * wStride,
                                     w1 + static_cast<long long>(active ? n0 + g : 0) * wStride};
    for (int c0 = 0; c0 < n; c0 += LS_MOE_TC_TOKENS) {
        const int cnt = min(LS_MOE_TC_TOKENS, n - c0);
        const int tiles = (cnt + 7) / 8;
        float acc[LS_MOE_TC_TILES][MATS][4];
#pragma unroll
        for (int m = 0; m < LS_MOE_TC_TILES; m++) {
#pragma unroll
            for (int q = 0; q < MATS; q++) {
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    acc[m][q][i] = 0.0f;
                }
            }
        }
        for (int d0 = 0; d0 < inCols; d0 += LS_MOE_TC_SLICE) {
            const int len = min(LS_MOE_TC_SLICE, inCols - d0);
            const int steps = len / LS_MOE_TC_STEP;
            const bool half = (len % LS_MOE_TC_STEP) != 0; /* a last step of 16 values (inCols % 32 == 16) */
            uint4 w[LS_MOE_TC_STEPS][MATS];
            uint2 wh[MATS];
            if (active) {
#pragma unroll
                for (int s = 0; s < LS_MOE_TC_STEPS; s++) {
#pragma unroll
                    for (int q = 0; q < MATS; q++) {
                        if (s < steps) {
                            w[s][q] = *reinterpret_cast<const uint4*>(wrow[q] + d0 + s * LS_MOE_TC_STEP + 8 * t);
                        }
                    }
                }
#pragma unroll
                for (int q = 0; q < MATS; q++) {
                    if (half) {
                        wh[q] = *reinterpret_cast<const uint2*>(wrow[q] + d0 + steps * LS_MOE_TC_STEP + 4 * t);
                    }
                }
            }
            __syncthreads(); /* the previous slice is no longer read */
            ls_moe_tc_stage(xs, in, inStride, inIndex, first + c0, cnt, tiles * 8, d0, len);
            __syncthreads();
            if (!active) {
                continue;
            }
#pragma unroll
            for (int s = 0; s < LS_MOE_TC_STEPS; s++) {
                if (s >= steps) {
                    break;
                }
#pragma unroll
                for (int m = 0; m < LS_MOE_TC_TILES; m++) {
                    if (m < tiles) { /* uniform over the block: every lane of the warp takes the mma */
                        const unsigned short* row = xs + (m * 8 + g) * LS_MOE_TC_ROW + s * LS_MOE_TC_STEP + 8 * t;
                        const uint4 hi = *reinterpret_cast<const uint4*>(row);
                        const uint4 lo = *reinterpret_cast<const uint4*>(row + LS_MOE_TC_TOKENS * LS_MOE_TC_ROW);
                        const unsigned a0[4] = {hi.x, lo.x, hi.y, lo.y};
                        const unsigned a1[4] = {hi.z, lo.z, hi.w, lo.w};
#pragma unroll
                        for (int q = 0; q < MATS; q++) {
                            const unsigned b0[2] = {w[s][q].x, w[s][q].y};
                            const unsigned b1[2] = {w[s][q].z, w[s][q].w};
                            ls_mma_bf16_16816(acc[m][q], a0, b0, acc[m][q]);
                            ls_mma_bf16_16816(acc[m][q], a1, b1, acc[m][q]);
                        }
                    }
                }
            }
            if (half) { /* logical k (2t, 2t+1, 2t+8, 2t+9) = physical 4t + (0, 1, 2, 3) */
#pragma unroll
                for (int m = 0; m < LS_MOE_TC_TILES; m++) {
                    if (m < tiles) {
                        const unsigned short* row = xs + (m * 8 + g) * LS_MOE_TC_ROW + steps * LS_MOE_TC_STEP + 4 * t;
                        const uint2 hi = *reinterpret_cast<const uint2*>(row);
                        const uint2 lo = *reinterpret_cast<const uint2*>(row + LS_MOE_TC_TOKENS * LS_MOE_TC_ROW);
                        const unsigned a[4] = {hi.x, lo.x, hi.y, lo.y};
#pragma unroll
                        for (int q = 0; q < MATS; q++) {
                            const unsigned b[2] = {wh[q].x, wh[q].y};
                            ls_mma_bf16_16816(acc[m][q], a, b, acc[m][q]);
                        }
                    }
                }
            }
        }
        if (!active) {
            continue;
        }
        /* lane (g, t) of m-tile m: token m*8 + g, features n0 + 2t and n0 + 2t + 1; hi in c[0..1], lo in c[2..3] */
#pragma unroll
        for (int m = 0; m < LS_MOE_TC_TILES; m++) {
            const int j = m * 8 + g;
            if (j < cnt) {
                float* dst = out + static_cast<long long>(first + c0 + j) * outStride + n0 + 2 * t;
#pragma unroll
                for (int i = 0; i < 2; i++) {
                    const float v = acc[m][0][i] + acc[m][0][i + 2];
                    if (MATS == 2) {
                        const float up = acc[m][MATS - 1][i] + acc[m][MATS - 1][i + 2];
                        /* silu as the CPU backend: z / (1f + (float) StrictMath.exp(-z)) * up */
                        dst[i] = v / (1.0f + ls_exp_f(-v)) * up;
                    } else {
                        dst[i] = v;
                    }
                }
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_moe_gate_up_tc(const LsMoeGateUpTcParams p) {
    __shared__ uint4 xs[2 * LS_MOE_TC_TOKENS * LS_MOE_TC_ROW / 8]; /* bf16 hi rows, then lo rows: 36 KB */
    const int e = blockIdx.x;
    const int* offsets = reinterpret_cast<const int*>(p.offsets);
    const int first = offsets[e];
    const int n = offsets[e + 1] - first;
    if (n == 0) {
        return; /* no token chose this expert: its weights are never read */
    }
    const auto* gate = reinterpret_cast<const unsigned short*>(reinterpret_cast<const ls_ptr*>(p.gateTable)[e]);
    const auto* up = reinterpret_cast<const unsigned short*>(reinterpret_cast<const ls_ptr*>(p.upTable)[e]);
    ls_moe_tc_rows<2>(reinterpret_cast<unsigned short*>(xs), reinterpret_cast<const float*>(p.x), p.xStride,
                      reinterpret_cast<const int*>(p.rowToken), p.hidden, gate, up, p.hidden, p.inter, first, n,
                      reinterpret_cast<float*>(p.h), p.hStride);
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_moe_down_tc(const LsMoeDownTcParams p) {
    __shared__ uint4 xs[2 * LS_MOE_TC_TOKENS * LS_MOE_TC_ROW / 8];
    const int e = blockIdx.x;
    const int* offsets = reinterpret_cast<const int*>(p.offsets);
    const int first = offsets[e];
    const int n = offsets[e + 1] - first;
    if (n == 0) {
        return; /* no token chose this expert: its weights are never read */
    }
    const auto* down = reinterpret_cast<const unsigned short*>(reinterpret_cast<const ls_ptr*>(p.downTable)[e]);
    const int stride = reinterpret_cast<const int*>(p.downStrides)[e];
    ls_moe_tc_rows<1>(reinterpret_cast<unsigned short*>(xs), reinterpret_cast<const float*>(p.h), p.hStride, nullptr,
                      p.inter, down, down, stride, p.hidden, first, n, reinterpret_cast<float*>(p.y), p.yStride);
}

/*
 * Mixture-of-experts kernels: DeepSeek-V2 routing (softmax, greedy or group-limited top-k, weights) and
 * the weighted combine of the expert outputs. For large batches (prefill) the expert GEMMs go through
 * cuBLAS on rows gathered by expert (ls_copy_rows), with ls_silu_mul between them. For decode-sized
 * batches the whole MoE stays on the device in a few launches: ls_moe_sort regroups the routing by expert,
 * ls_moe_gate_up and ls_moe_down read each touched expert's weights once and apply them to all its rows.
 */
#include "include/ls_common.cuh"

/* Index of the best candidate not yet taken (higher value, then lower index), found by one warp. */
__device__ __forceinline__ int ls_warp_argmax(const float* values, const unsigned char* taken, int n) {
    const int lane = threadIdx.x & 31;
    int best = -1;
    float bestValue = -INFINITY;
    for (int e = lane; e < n; e += 32) {
        if (!taken[e] && (best < 0 || values[e] > bestValue)) {
            best = e;
            bestValue = values[e];
        }
    }
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        const int otherBest = __shfl_xor_sync(LS_FULL_MASK, best, offset);
        const float otherValue = __shfl_xor_sync(LS_FULL_MASK, bestValue, offset);
        const bool better = otherBest >= 0
                && (best < 0 || otherValue > bestValue || (otherValue == bestValue && otherBest < best));
        if (better) {
            best = otherBest;
            bestValue = otherValue;
        }
    }
    return best;
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_moe_route(const LsMoeRouteParams p) {
    extern __shared__ float smem[];
    __shared__ float reduceScratch[32];
    __shared__ double sumShared;
    const int t = blockIdx.x;
    const int n = p.numExperts;
    float* scores = smem;                                           /* [E] softmax scores */
    float* groupMax = scores + n;                                   /* [G] */
    unsigned char* taken = reinterpret_cast<unsigned char*>(groupMax + p.numGroups); /* [E] chosen, or masked */
    unsigned char* keep = taken + n;                                /* [G] */
    const float* logits = reinterpret_cast<const float*>(p.logits) + static_cast<long long>(t) * p.logitsStride;

    /* softmax as the CPU's Softmax.inPlace: max, exp in float, sum in double in expert order */
    float localMax = -INFINITY;
    for (int e = threadIdx.x; e < n; e += blockDim.x) {
        scores[e] = logits[e];
        localMax = fmaxf(localMax, scores[e]);
    }
    const float max = ls_block_max(localMax, reduceScratch);
    for (int e = threadIdx.x; e < n; e += blockDim.x) {
        scores[e] = ls_exp_f(scores[e] - max);
        taken[e] = 0;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        double sum = 0.0;
        for (int e = 0; e < n; e++) {
            sum += scores[e];
        }
        sumShared = sum;
    }
    __syncthreads();
    const float inv = static_cast<float>(1.0 / sumShared);
    for (int e = threadIdx.x; e < n; e += blockDim.x) {
        scores[e] *= inv;
    }
    __syncthreads();

    /* group-limited: experts outside the topkGroup best groups (group score = its max) cannot be chosen */
    if (p.groupLimited && threadIdx.x == 0) {
        const int perGroup = n / p.numGroups;
        for (int g = 0; g < p.numGroups; g++) {
            float m = -INFINITY;
            for (int e = g * perGroup; e < (g + 1) * perGroup; e++) {
                m = fmaxf(m, scores[e]);
            }
            groupMax[g] = m;
            keep[g] = 0;
        }
        for (int k = 0; k < p.topkGroup; k++) {
            int best = -1;
            for (int g = 0; g < p.numGroups; g++) {
                if (!keep[g] && (best < 0 || groupMax[g] > groupMax[best])) {
                    best = g;
                }
            }
            keep[best] = 1;
        }
        for (int e = 0; e < n; e++) {
            taken[e] = keep[e / perGroup] ? 0 : 1;
        }
    }
    __syncthreads();

    /* top-k by warp 0; masked experts are only taken when nothing else is left, as -inf candidates */
    if (threadIdx.x < 32) {
        int* experts = reinterpret_cast<int*>(p.experts) + static_cast<long long>(t) * p.topK;
        float* weights = reinterpret_cast<float*>(p.weights) + static_cast<long long>(t) * p.topK;
        float sum = 0.0f;
        for (int k = 0; k < p.topK; k++) {
            int best = ls_warp_argmax(scores, taken, n);
            if (best < 0) { /* fewer kept experts than topK: fall back to masked ones in id order */
                for (best = 0; best < n && taken[best] == 2; best++) {
                }
            }
            __syncwarp();
            if (threadIdx.x == 0) {
                taken[best] = 2;
                experts[k] = best;
                weights[k] = scores[best];
            }
            __syncwarp();
            sum += scores[best];
        }
        if (threadIdx.x == 0) {
            for (int k = 0; k < p.topK; k++) {
                if (p.normTopkProb && p.topK > 1) {
                    weights[k] = static_cast<float>(static_cast<double>(weights[k]) / (static_cast<double>(sum) + 1e-20));
                } else {
                    weights[k] *= p.routedScalingFactor;
                }
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_moe_combine(const LsMoeCombineParams p) {
    const int c = blockIdx.y * blockDim.x + threadIdx.x;
    const long long t = blockIdx.x;
    if (c >= p.cols) {
        return;
    }
    const int* rows = reinterpret_cast<const int*>(p.pairRows) + t * p.topK;
    const float* weights = reinterpret_cast<const float*>(p.pairWeights) + t * p.topK;
    const float* y = reinterpret_cast<const float*>(p.y);
    float* out = reinterpret_cast<float*>(p.out) + t * p.outStride;
    float acc = out[c];
    for (int k = 0; k < p.topK; k++) {
        acc = fmaf(weights[k], y[static_cast<long long>(rows[k]) * p.cols + c], acc);
    }
    out[c] = acc;
}

/* ---- device-side MoE for decode-sized batches ---- */

/* Routing pairs staged in shared memory per pass of ls_moe_sort (any number of pairs works, in chunks). */
#define LS_MOE_SORT_CHUNK 2048
/* Gathered rows whose accumulators one warp keeps in registers at a time (more rows: the block walks its
 * weight tile again, from L2, for each further group of this many rows). */
#define LS_MOE_TILE_TOKENS 8
/* Input values per row staged in shared memory at a time: 8 rows x 1024 f32 = 32 KB, under the 48 KB a
 * block gets without opting in; wider inputs (hidden 5120) are walked in slices. */
#define LS_MOE_SLICE 1024

static_assert(LS_MOE_GATE_UP_ROWS == (LS_THREADS / 32) * 2, "ls_moe_gate_up: 2 rows of gate and up per warp");
static_assert(LS_MOE_DOWN_ROWS == (LS_THREADS / 32) * 4, "ls_moe_down: 4 rows per warp");

__device__ __forceinline__ int ls_moe_min(int a, int b) {
    return a < b ? a : b;
}

/*
 * One block. Every thread owns the experts e = threadIdx.x + j*blockDim.x and walks the pairs in order
 * (staged in shared memory, read by all threads at the same address: a broadcast): pass 1 counts, warp 0
 * turns the counts into offsets, pass 2 hands out the rows. Walking in pair order (t*topK + k) numbers
 * the rows of an expert by ascending token without atomics, so the layout is deterministic. Shared experts
 * (numShared) take every token: their rows follow the routed ones in closed form, nothing to count.
 */
extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_moe_sort(const LsMoeSortParams p) {
    __shared__ int chunk[LS_MOE_SORT_CHUNK];
    __shared__ int next[LS_MOE_MAX_EXPERTS];     /* counts, then each expert's next free row */
    __shared__ int laneBase[32];
    const int* experts = reinterpret_cast<const int*>(p.experts);
    const float* weights = reinterpret_cast<const float*>(p.weights);
    int* offsets = reinterpret_cast<int*>(p.offsets);
    int* rowToken = reinterpret_cast<int*>(p.rowToken);
    int* pairRows = reinterpret_cast<int*>(p.pairRows);
    float* pairWeights = reinterpret_cast<float*>(p.pairWeights);
    const int pairs = p.rows * p.topK;       /* routed pairs; the shared rows follow them */
    const int n = p.numExperts;
    const int slots = p.numShared + p.topK;  /* per token: the shared experts, then the routed ones */

    for (int e = threadIdx.x; e < n; e += blockDim.x) {
        next[e] = 0;
    }
    for (int base = 0; base < pairs; base += LS_MOE_SORT_CHUNK) {
        const int len = ls_moe_min(LS_MOE_SORT_CHUNK, pairs - base);
        __syncthreads(); /* the previous chunk is no longer read */
        for (int i = threadIdx.x; i < len; i += blockDim.x) {
            chunk[i] = experts[base + i];
        }
        __syncthreads();
        for (int e = threadIdx.x; e < n; e += blockDim.x) {
            int count = 0;
            for (int i = 0; i < len; i++) {
                count += chunk[i] == e ? 1 : 0;
            }
            next[e] += count;
        }
    }
    __syncthreads();

    /* exclusive scan by warp 0: lane l sums the experts [l*per, (l+1)*per), lane 0 scans the 32 sums */
    if (threadIdx.x < 32) {
        const int per = (n + 31) / 32;
        const int lo = threadIdx.x * per;
        const int hi = ls_moe_min(n, lo + per);
        int sum = 0;
        for (int e = lo; e < hi; e++) {
            sum += next[e];
        }
        laneBase[threadIdx.x] = sum;
        __syncwarp();
        if (threadIdx.x == 0) {
            int run = 0;
            for (int l = 0; l < 32; l++) {
                const int v = laneBase[l];
                laneBase[l] = run;
                run += v;
            }
        }
        __syncwarp();
        int run = laneBase[threadIdx.x];
        for (int e = lo; e < hi; e++) {
            const int count = next[e];
            next[e] = run;
            offsets[e] = run;
            run += count;
        }
    }
    /* shared expert s: rows pairs + s*rows + t, every token t, weight 1, listed first by each token */
    for (int s = threadIdx.x; s <= p.numShared; s += blockDim.x) {
        offsets[n + s] = pairs + s * p.rows;
    }
    for (int i = threadIdx.x; i < p.numShared * p.rows; i += blockDim.x) {
        const int s = i / p.rows;
        const int t = i - s * p.rows;
        rowToken[pairs + i] = t;
        pairRows[t * slots + s] = pairs + i;
        pairWeights[t * slots + s] = 1.0f;
    }

    for (int base = 0; base < pairs; base += LS_MOE_SORT_CHUNK) {
        const int len = ls_moe_min(LS_MOE_SORT_CHUNK, pairs - base);
        __syncthreads(); /* offsets written, the previous chunk no longer read */
        for (int i = threadIdx.x; i < len; i += blockDim.x) {
            chunk[i] = experts[base + i];
        }
        __syncthreads();
        for (int e = threadIdx.x; e < n; e += blockDim.x) {
            int row = next[e];
            for (int i = 0; i < len; i++) {
                if (chunk[i] != e) {
                    continue;
                }
                const int pair = base + i;
                const int t = pair / p.topK;
                const int* mine = experts + t * p.topK;
                /* the pair's place among its token's experts in ascending id (pair order breaks duplicates) */
                int rank = 0;
                for (int j = 0; j < p.topK; j++) {
                    const int other = mine[j];
                    rank += other < e || (other == e && t * p.topK + j < pair) ? 1 : 0;
                }
                rowToken[row] = t;
                pairRows[t * slots + p.numShared + rank] = row;
                pairWeights[t * slots + p.numShared + rank] = weights[pair];
                row++;
            }
            next[e] = row;
        }
    }
}

/* 8 consecutive weights w[i .. i+8) widened to f32, in one 16-byte load (bf16) or two (f32); i is a multiple
 * of 8 and the weight 16-byte aligned (the host checks both). */
template <bool BF16>
__device__ __forceinline__ void ls_moe_load8(const void* w, long long i, float (&v)[8]) {
    if (BF16) {
        ls_bf16x8(*reinterpret_cast<const uint4*>(static_cast<const unsigned short*>(w) + i), v);
    } else {
        const float4 a = *reinterpret_cast<const float4*>(static_cast<const float*>(w) + i);
        const float4 b = *reinterpret_cast<const float4*>(static_cast<const float*>(w) + i + 4);
        v[0] = a.x;
        v[1] = a.y;
        v[2] = a.z;
        v[3] = a.w;
        v[4] = b.x;
        v[5] = b.y;
        v[6] = b.z;
        v[7] = b.w;
    }
}

/*
 * The rows [first, first + n) of one expert through MATS weight matrices ([outRows, inCols] row-major):
 * warp w of the block computes output rows row0 .. row0+ROWS-1 (row0 = (blockIdx.y*warps + w)*ROWS) of
 * each matrix. Lanes stride the input by 8 values (one 16-byte load per matrix and row, a warp reads 512
 * contiguous bytes of a weight row); the input rows are staged in shared memory (xs), up to
 * LS_MOE_TILE_TOKENS rows x LS_MOE_SLICE values at a time, and every weight value loaded is applied to all
 * staged rows. f32 accumulation with fmaf, lanes summed in a fixed tree: deterministic.
 * MATS 2: out = silu(a0) * a1 (gate, up); MATS 1: out = a0.
 * Input row of gathered row r: inIndex[r] when inIndex is given, else r. Weight rows are wStride values apart.
 */
template <int MATS, int ROWS, bool BF16>
__device__ __forceinline__ void ls_moe_expert_rows(float* xs, const float* in, int inStride, const int* inIndex,
                                                   int inCols, const void* w0, const void* w1, int wStride,
                                                   int outRows, int first, int n, float* out, int outStride) {
    /* one accumulator per lane and (matrix, row, staged row): acc[(m*ROWS + r)*TILE + j], reduced so that
     * lane l ends with the total of accumulator l */
    static_assert(MATS * ROWS * LS_MOE_TILE_TOKENS == 32, "one accumulator per lane after the reduction");
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int row0 = (blockIdx.y * (blockDim.x >> 5) + warp) * ROWS;
    for (int c0 = 0; c0 < n; c0 += LS_MOE_TILE_TOKENS) {
        const int cnt = ls_moe_min(LS_MOE_TILE_TOKENS, n - c0);
        float acc[32];
#pragma unroll
        for (int a = 0; a < 32; a++) {
            acc[a] = 0.0f;
        }
        for (int d0 = 0; d0 < inCols; d0 += LS_MOE_SLICE) {
            const int len = ls_moe_min(LS_MOE_SLICE, inCols - d0);
            __syncthreads(); /* the previous slice is no longer read */
            for (int idx = threadIdx.x; idx < cnt * len; idx += blockDim.x) {
                const int j = idx / len;
                const int c = idx - j * len;
                const int r = first + c0 + j;
                const long long src = inIndex != nullptr ? inIndex[r] : r;
                xs[j * LS_MOE_SLICE + c] = in[src * inStride + d0 + c];
            }
            __syncthreads();
            for (int c = lane * 8; c < len; c += 32 * 8) {
                float w[MATS][ROWS][8];
#pragma unroll
                for (int m = 0; m < MATS; m++) {
#pragma unroll
                    for (int r = 0; r < ROWS; r++) {
                        if (row0 + r < outRows) {
                            ls_moe_load8<BF16>(m == 0 ? w0 : w1, static_cast<long long>(row0 + r) * wStride + d0 + c,
                                               w[m][r]);
                        } else {
#pragma unroll
                            for (int q = 0; q < 8; q++) {
                                w[m][r][q] = 0.0f;
                            }
                        }
                    }
                }
#pragma unroll
                for (int j = 0; j < LS_MOE_TILE_TOKENS; j++) {
                    if (j < cnt) { /* uniform over the block: no divergence */
                        const float4 xa = *reinterpret_cast<const float4*>(xs + j * LS_MOE_SLICE + c);
                        const float4 xb = *reinterpret_cast<const float4*>(xs + j * LS_MOE_SLICE + c + 4);
                        const float xv[8] = {xa.x, xa.y, xa.z, xa.w, xb.x, xb.y, xb.z, xb.w};
#pragma unroll
                        for (int m = 0; m < MATS; m++) {
#pragma unroll
                            for (int r = 0; r < ROWS; r++) {
                                float& a = acc[(m * ROWS + r) * LS_MOE_TILE_TOKENS + j];
#pragma unroll
                                for (int q = 0; q < 8; q++) {
                                    a = fmaf(w[m][r][q], xv[q], a);
                                }
                            }
                        }
                    }
                }
            }
        }
        const float total = ls_warp_reduce_scatter(acc);
        const int j = lane % LS_MOE_TILE_TOKENS;
        const int r = (lane / LS_MOE_TILE_TOKENS) % ROWS;
        float* dst = out + static_cast<long long>(first + c0 + j) * outStride + row0 + r;
        if (MATS == 2) {
            /* lanes 0-15 hold gate sums, lanes 16-31 the matching up sums */
            const float up = __shfl_xor_sync(LS_FULL_MASK, total, 16);
            if (lane < 16 && j < cnt && row0 + r < outRows) {
                /* silu as the CPU backend: z / (1f + (float) StrictMath.exp(-z)) * up */
                *dst = total / (1.0f + ls_exp_f(-total)) * up;
            }
        } else if (j < cnt && row0 + r < outRows) {
            *dst = total;
        }
    }
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_moe_gate_up(const LsMoeGateUpParams p) {
    __shared__ float4 xs[LS_MOE_TILE_TOKENS * LS_MOE_SLICE / 4];
    const int e = blockIdx.x;
    const int* offsets = reinterpret_cast<const int*>(p.offsets);
    const int first = offsets[e];
    const int n = offsets[e + 1] - first;
    if (n == 0) {
        return; /* no token chose this expert: its weights are never read (the point, at decode) */
    }
    const void* gate = reinterpret_cast<const void*>(reinterpret_cast<const ls_ptr*>(p.gateTable)[e]);
    const void* up = reinterpret_cast<const void*>(reinterpret_cast<const ls_ptr*>(p.upTable)[e]);
    const float* x = reinterpret_cast<const float*>(p.x);
    const int* rowToken = reinterpret_cast<const int*>(p.rowToken);
    float* h = reinterpret_cast<float*>(p.h);
    if (p.weightDtype == LS_DTYPE_BF16) {
        ls_moe_expert_rows<2, 2, true>(reinterpret_cast<float*>(xs), x, p.xStride, rowToken, p.hidden, gate, up,
                                       p.hidden, p.inter, first, n, h, p.hStride);
    } else {
        ls_moe_expert_rows<2, 2, false>(reinterpret_cast<float*>(xs), x, p.xStride, rowToken, p.hidden, gate, up,
                                        p.hidden, p.inter, first, n, h, p.hStride);
    }
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_moe_down(const LsMoeDownParams p) {
    __shared__ float4 xs[LS_MOE_TILE_TOKENS * LS_MOE_SLICE / 4];
    const int e = blockIdx.x;
    const int* offsets = reinterpret_cast<const int*>(p.offsets);
    const int first = offsets[e];
    const int n = offsets[e + 1] - first;
    if (n == 0) {
        return; /* no token chose this expert: its weights are never read */
    }
    const void* down = reinterpret_cast<const void*>(reinterpret_cast<const ls_ptr*>(p.downTable)[e]);
    const int stride = reinterpret_cast<const int*>(p.downStrides)[e];
    const float* h = reinterpret_cast<const float*>(p.h);
    float* y = reinterpret_cast<float*>(p.y);
    if (p.weightDtype == LS_DTYPE_BF16) {
        ls_moe_expert_rows<1, 4, true>(reinterpret_cast<float*>(xs), h, p.hStride, nullptr, p.inter, down, down,
                                       stride, p.hidden, first, n, y, p.yStride);
    } else {
        ls_moe_expert_rows<1, 4, false>(reinterpret_cast<float*>(xs), h, p.hStride, nullptr, p.inter, down, down,
                                        stride, p.hidden, first, n, y, p.yStride);
    }
}

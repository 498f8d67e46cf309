/*
 * Mixture-of-experts kernels: DeepSeek-V2 routing (softmax, greedy or group-limited top-k, weights) and
 * the weighted combine of the expert outputs. The expert GEMMs themselves go through cuBLAS on rows
 * gathered by expert (ls_copy_rows), with ls_silu_mul between them.
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

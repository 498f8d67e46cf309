/*
 * Sampling on the device: greedy, top-k, top-p, with the server Sampler's rules (see ls_sample in
 * latentserve_params.h). No sort: every threshold (the k-th best token, the end of the nucleus, the drawn
 * token) is the largest key t whose tail sum f(t) = sum over tokens with key >= t reaches a target,
 * found by bisection over the keys with deterministic block sums. A token's rank key is
 * (order-preserving bits of its logit) << idBits | (vocab - 1 - id): distinct, and larger means ranked
 * first (higher logit, then lower id). First correct version: about 150 passes over the row.
 */
#include "include/ls_common.cuh"

#define LS_SUM_COUNT 0   /* number of tokens with rank key >= t */
#define LS_SUM_MASS 1    /* weight of tokens with rank key >= max(t, floor) */
#define LS_SUM_MASS_ID 2 /* weight of tokens with rank key >= floor and id <= vocab - 1 - t */
#define LS_SUM_BROKEN 3  /* number of NaN or +inf logits (the host Sampler refuses such a row) */

struct LsSampleRow {
    const float* logits;
    int vocab;
    int idBits;
    double invTemperature;
    double maxProcessed;
};

__device__ __forceinline__ unsigned long long ls_rank_key(float logit, int id, const LsSampleRow& row) {
    const unsigned u = __float_as_uint(logit);
    const unsigned ordered = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return (static_cast<unsigned long long>(ordered) << row.idBits) | static_cast<unsigned long long>(row.vocab - 1 - id);
}

__device__ __forceinline__ int ls_token_of(unsigned long long key, const LsSampleRow& row) {
    return row.vocab - 1 - static_cast<int>(key & ((1ull << row.idBits) - 1));
}

/* A token takes part unless its logit is -inf (banned) or NaN. */
__device__ __forceinline__ bool ls_valid(float logit) {
    return logit > -INFINITY;
}

__device__ __forceinline__ double ls_weight(float logit, const LsSampleRow& row) {
    return exp(static_cast<double>(logit) * row.invTemperature - row.maxProcessed);
}

__device__ double ls_row_sum(const LsSampleRow& row, int what, unsigned long long floor, unsigned long long t,
                             double* scratch) {
    double local = 0.0;
    for (int i = threadIdx.x; i < row.vocab; i += blockDim.x) {
        const float logit = row.logits[i];
        if (what == LS_SUM_BROKEN) {
            local += isnan(logit) || logit == INFINITY ? 1.0 : 0.0;
            continue;
        }
        if (!ls_valid(logit)) {
            continue;
        }
        const unsigned long long key = ls_rank_key(logit, i, row);
        if (what == LS_SUM_COUNT) {
            local += key >= t ? 1.0 : 0.0;
        } else if (what == LS_SUM_MASS) {
            if (key >= t && key >= floor) {
                local += ls_weight(logit, row);
            }
        } else if (key >= floor && static_cast<unsigned long long>(row.vocab - 1 - i) >= t) {
            local += ls_weight(logit, row);
        }
    }
    return ls_block_sum(local, scratch);
}

/* The largest t in [lo, hi] with f(t) >= target (f(t) > target when strict); f is non-increasing in t. */
__device__ unsigned long long ls_largest_key(const LsSampleRow& row, int what, unsigned long long floor,
                                             unsigned long long lo, unsigned long long hi, double target, bool strict,
                                             double* scratch) {
    while (lo < hi) {
        const unsigned long long mid = lo + (hi - lo + 1) / 2;
        const double f = ls_row_sum(row, what, floor, mid, scratch);
        if (strict ? f > target : f >= target) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

__device__ unsigned long long ls_block_max_key(const LsSampleRow& row, unsigned long long* scratch) {
    unsigned long long best = 0;
    bool any = false;
    for (int i = threadIdx.x; i < row.vocab; i += blockDim.x) {
        const float logit = row.logits[i];
        if (ls_valid(logit)) {
            const unsigned long long key = ls_rank_key(logit, i, row);
            best = !any || key > best ? key : best;
            any = true;
        }
    }
    /* keys of valid tokens are > 0 except the worst possible one; 0 doubles as "none" here and the
       count below tells the two apart */
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        const unsigned long long other = __shfl_xor_sync(LS_FULL_MASK, best, offset);
        best = other > best ? other : best;
    }
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = best;
    }
    __syncthreads();
    if (warp == 0) {
        unsigned long long w = lane < static_cast<int>(blockDim.x >> 5) ? scratch[lane] : 0ull;
#pragma unroll
        for (int offset = 16; offset > 0; offset >>= 1) {
            const unsigned long long other = __shfl_xor_sync(LS_FULL_MASK, w, offset);
            w = other > w ? other : w;
        }
        if (lane == 0) {
            scratch[0] = w;
        }
    }
    __syncthreads();
    return scratch[0];
}

extern "C" __global__ void __launch_bounds__(LS_SAMPLE_THREADS, 1) ls_sample(const LsSampleParams p) {
    __shared__ double scratch[32];
    const int r = blockIdx.x;
    LsSampleRow row;
    row.logits = reinterpret_cast<const float*>(p.logits) + static_cast<long long>(r) * p.logitsStride;
    row.vocab = p.vocab;
    row.idBits = 32 - __clz(p.vocab - 1 > 0 ? p.vocab - 1 : 1);
    row.invTemperature = reinterpret_cast<const double*>(p.invTemperature)[r];
    row.maxProcessed = 0.0;
    int* tokens = reinterpret_cast<int*>(p.tokens);

    if (ls_row_sum(row, LS_SUM_BROKEN, 0, 0, scratch) != 0.0) {
        if (threadIdx.x == 0) {
            tokens[r] = -2; /* a NaN or +inf logit: the Java side fails the row as the host Sampler would */
        }
        return;
    }
    const double count = ls_row_sum(row, LS_SUM_COUNT, 0, 0, scratch);
    if (count == 0.0) {
        if (threadIdx.x == 0) {
            tokens[r] = -1; /* every logit is -inf: the Java side reports it */
        }
        return;
    }
    const unsigned long long maxKey = ls_block_max_key(row, reinterpret_cast<unsigned long long*>(scratch));
    const int best = ls_token_of(maxKey, row);
    if (row.invTemperature == 0.0) {
        if (threadIdx.x == 0) {
            tokens[r] = best;
        }
        return;
    }
    row.maxProcessed = static_cast<double>(row.logits[best]) * row.invTemperature;

    const int topK = reinterpret_cast<const int*>(p.topK)[r];
    const double topP = reinterpret_cast<const double*>(p.topP)[r];
    unsigned long long floor = 0;   /* candidates: rank key >= floor */
    bool ordered = false;           /* draw best first (after truncation) or in id order */
    if (topK > 0 && topK < count) {
        floor = ls_largest_key(row, LS_SUM_COUNT, 0, 0, maxKey, topK, false, scratch);
        ordered = true;
    }
    if (topP < 1.0) {
        const double mass = ls_row_sum(row, LS_SUM_MASS, floor, floor, scratch);
        floor = ls_largest_key(row, LS_SUM_MASS, floor, floor, maxKey, topP * mass, false, scratch);
        ordered = true;
    }
    const double total = ls_row_sum(row, LS_SUM_MASS, floor, floor, scratch);
    const double x = reinterpret_cast<const double*>(p.uniform)[r] * total;
    int token;
    if (ordered) {
        const bool reached = total > x; /* else rounding: the last candidate of positive weight */
        const unsigned long long key = ls_largest_key(row, LS_SUM_MASS, floor, floor, maxKey,
                                                      reached ? x : total, reached, scratch);
        token = ls_token_of(key, row);
    } else {
        const bool reached = total > x;
        const unsigned long long t = ls_largest_key(row, LS_SUM_MASS_ID, floor, 0,
                                                    static_cast<unsigned long long>(p.vocab - 1),
                                                    reached ? x : total, reached, scratch);
        token = p.vocab - 1 - static_cast<int>(t);
    }
    if (threadIdx.x == 0) {
        tokens[r] = token;
    }
}

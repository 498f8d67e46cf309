/*
 * Sampling on the device: greedy, top-k, top-p, with the server Sampler's rules (see ls_sample in
 * latentserve_params.h). No sort: every threshold (the k-th best token, the end of the nucleus, the drawn
 * token) is the largest key t whose tail sum f(t) = sum over tokens with key >= t reaches a target,
 * found by a k-ary search over the keys (LS_SEARCH_WAYS - 1 thresholds per pass) with deterministic block
 * sums. A token's rank key is
 * (order-preserving bits of its logit) << idBits | (vocab - 1 - id): distinct, and larger means ranked
 * first (higher logit, then lower id). About 55 passes over the row at most (top-k, top-p and the draw).
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

/*
 * The search tests LS_SEARCH_WAYS - 1 thresholds per pass over the row (a k-ary search: 3 bits of the key per
 * pass instead of bisection's 1, about 17 passes per 49-bit key instead of 49). Each threshold's sum is
 * accumulated and reduced exactly as a single-threshold pass would (same elements, same order, same tree), so
 * f(t) does not depend on which other thresholds share its pass and the search lands on the same key.
 */
#define LS_SEARCH_WAYS 8
#define LS_THRESHOLDS (LS_SEARCH_WAYS - 1)

/* f(t[j]) for every j (see LS_SUM_*); scratch holds 32 * LS_THRESHOLDS doubles. */
__device__ void ls_row_sums(const LsSampleRow& row, int what, unsigned long long floor,
                            const unsigned long long (&t)[LS_THRESHOLDS], double (&f)[LS_THRESHOLDS],
                            double* scratch) {
    double local[LS_THRESHOLDS];
#pragma unroll
    for (int j = 0; j < LS_THRESHOLDS; j++) {
        local[j] = 0.0;
    }
    for (int i = threadIdx.x; i < row.vocab; i += blockDim.x) {
        const float logit = row.logits[i];
        if (!ls_valid(logit)) {
            continue;
        }
        const unsigned long long key = ls_rank_key(logit, i, row);
        if (what == LS_SUM_COUNT) {
#pragma unroll
            for (int j = 0; j < LS_THRESHOLDS; j++) {
                local[j] += key >= t[j] ? 1.0 : 0.0;
            }
            continue;
        }
        /* t ascends: an element below t[0] (or below the floor) counts for no threshold, and skips the exp */
        const unsigned long long probe = what == LS_SUM_MASS ? key : static_cast<unsigned long long>(row.vocab - 1 - i);
        if (key < floor || probe < t[0]) {
            continue;
        }
        const double w = ls_weight(logit, row);
#pragma unroll
        for (int j = 0; j < LS_THRESHOLDS; j++) {
            if (probe >= t[j]) {
                local[j] += w;
            }
        }
    }
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    __syncthreads(); /* scratch may still be read by a previous reduction */
#pragma unroll
    for (int j = 0; j < LS_THRESHOLDS; j++) {
        const double v = ls_warp_sum(local[j]);
        if (lane == 0) {
            scratch[j * 32 + warp] = v;
        }
    }
    __syncthreads();
    if (warp < LS_THRESHOLDS) {   /* warp j sums threshold j over the warps, as ls_block_sum's warp 0 does */
        double w = lane < warps ? scratch[warp * 32 + lane] : 0.0;
        w = ls_warp_sum(w);
        __syncwarp();
        if (lane == 0) {
            scratch[warp * 32] = w;
        }
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < LS_THRESHOLDS; j++) {
        f[j] = scratch[j * 32];
    }
}

/* One sum over the row (f at t, or the broken-logit count), by ls_row_sums' rules. */
__device__ double ls_row_sum(const LsSampleRow& row, int what, unsigned long long floor, unsigned long long t,
                             double* scratch) {
    if (what == LS_SUM_BROKEN) {
        double local = 0.0;
        for (int i = threadIdx.x; i < row.vocab; i += blockDim.x) {
            const float logit = row.logits[i];
            local += isnan(logit) || logit == INFINITY ? 1.0 : 0.0;
        }
        return ls_block_sum(local, scratch);
    }
    unsigned long long ts[LS_THRESHOLDS];
    double f[LS_THRESHOLDS];
#pragma unroll
    for (int j = 0; j < LS_THRESHOLDS; j++) {
        ts[j] = t;
    }
    ls_row_sums(row, what, floor, ts, f, scratch);
    return f[0];
}

/*
 * The largest t in [lo, hi] with f(t) >= target (f(t) > target when strict), lo when none above it passes;
 * f is non-increasing in t. Each pass cuts [lo, hi] into LS_SEARCH_WAYS parts and tests their starts.
 */
__device__ unsigned long long ls_largest_key(const LsSampleRow& row, int what, unsigned long long floor,
                                             unsigned long long lo, unsigned long long hi, double target, bool strict,
                                             double* scratch) {
    while (lo < hi) {
        const unsigned long long step = (hi - lo) / LS_SEARCH_WAYS + 1;   /* >= 1; t[j] = lo + (j+1) step */
        unsigned long long t[LS_THRESHOLDS];
        double f[LS_THRESHOLDS];
#pragma unroll
        for (int j = 0; j < LS_THRESHOLDS; j++) {
            const unsigned long long offset = static_cast<unsigned long long>(j + 1) * step;
            t[j] = offset <= hi - lo ? lo + offset : hi;   /* past hi: hi again, tested twice, harmless */
        }
        ls_row_sums(row, what, floor, t, f, scratch);
        unsigned long long newLo = lo;
        unsigned long long newHi = hi;
#pragma unroll
        for (int j = 0; j < LS_THRESHOLDS; j++) {
            const bool pass = strict ? f[j] > target : f[j] >= target;
            if (pass) {
                newLo = t[j] > newLo ? t[j] : newLo;
            } else if (t[j] - 1 < newHi) {
                newHi = t[j] - 1;
            }
        }
        /* the thresholds after the first failing one fail too (f non-increasing), so [newLo, newHi] holds the answer */
        lo = newLo;
        hi = newHi < lo ? lo : newHi;
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
    __shared__ double scratch[32 * LS_THRESHOLDS];
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

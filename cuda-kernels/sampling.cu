/*
 * Sampling on the device: greedy, top-k, top-p, with the server Sampler's rules (see ls_sample in
 * latentserve_params.h). No sort: every threshold (the k-th best token, the end of the nucleus, the drawn
 * token) is the largest key t whose tail sum f(t) = sum over tokens with key >= t reaches a target. A token's
 * rank key is (order-preserving bits of its logit) << idBits | (vocab - 1 - id): distinct, and larger means
 * ranked first (higher logit, then lower id).
 *
 * Passes over the row (102,400 logits at V2's vocabulary, one block per row):
 *  - every row: one pass (NaN/+inf count, valid count, best key); greedy rows stop there.
 *  - top-k: the k-th best key by radix select on exact integer counts (ls_kth_key, ceil((32 + idBits) / 11)
 *    passes, no exp: 5 at 102,400).
 *  - top-k or top-p: the candidate list (ls_build_list): the best L = 1024 tokens of the row (radix select again
 *    unless top-k <= L already gave their floor) with their f64 weights, computed once, kept in shared memory by
 *    the thread that owns them, in the thread's element order; the same pass sums f at the candidates' floor (top-p's
 *    mass) and at the list's floor. Every later sum whose tokens are all in the list reads the list instead of the
 *    row: top-p's search and the draw (4-way, ~25 list passes of at most 6 entries per thread and a 3-value block
 *    reduction each), unless the nucleus holds more than L tokens (then below the list's floor they read the row,
 *    8-way, as before). 7 passes over the row for top-p or top-k <= L (12 for top-k > L), one of them computing
 *    exps, instead of ~55 passes of which ~34 computed an exp per token.
 *  - neither (temperature only): the total, then an 8-way search on token ids (ls_search_id) whose passes read
 *    only the ids still in question: 8 passes, about 2 exps per token in all instead of up to 7.
 * Sums f(t) are accumulated and reduced exactly as a pass over the row would (same elements, same order, same
 * tree): the list holds every token that adds to them and reading it skips only tokens that add nothing, so
 * the sums, the thresholds and the drawn token are the same bits with or without the list (listPerThread 0 also
 * keeps the id search's passes over the whole row: the algorithm before the list, for the emulator's checks).
 */
#include "include/ls_common.cuh"

#define LS_SUM_COUNT 0   /* number of tokens with rank key >= t */
#define LS_SUM_MASS 1    /* weight of tokens with rank key >= max(t, floor) */
#define LS_SUM_MASS_ID 2 /* weight of tokens with rank key >= floor and id <= vocab - 1 - t */

struct LsSampleRow {
    const float* logits;
    int vocab;
    int idBits;
    /* {1 / temperature, max processed logit}: the same for every thread, kept in shared memory (registers are
       scarce at 1024 threads) */
    const double* scale;
};

/*
 * The candidate list, as one thread sees it: the row's tokens with key >= floor, each kept by the thread that
 * reads it in a pass over the row (token i by thread i % blockDim.x), in increasing i, with its weight. A thread
 * holds at most `capacity` and leaves the rest out; a pass reads the list only when it sums tokens of key >= cover
 * alone (cover: past every left-out key, block-wide), else the row. Entry s of a thread is
 * entries[s * blockDim.x + threadIdx.x] (16 bytes apart within a warp: one conflict-free vector load per lane).
 */
struct alignas(16) LsListEntry {
    unsigned long long key;
    double weight;
};

/* What is the same for every thread, in shared memory (registers are what the searches run short of). */
struct LsListState {
    /* the list holds the tokens with key >= floor (but left-out ones); 0 also when none is built (then no search
       tests it) */
    unsigned long long floor;
    /* every valid token with key >= cover is in the list (the largest left-out key + 1); ~0 when none is built */
    unsigned long long cover;
    double atFloor;   /* f(floor) for LS_SUM_MASS (its tokens: the list), when built */
    unsigned long long maxKey;   /* the best token's key (read where used: one value fewer held in registers) */
};

struct LsSampleList {
    LsListEntry* entries;
    int capacity;
    int n;                  /* this thread's entries */
    LsListState* state;
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
    return exp(static_cast<double>(logit) * row.scale[0] - row.scale[1]);
}

/*
 * The search tests T thresholds per pass (a k-ary search with T + 1 ways): over the row, T = 7 (3 bits of the
 * key per pass instead of bisection's 1, about 17 passes per 49-bit key instead of 49); over the list, where a
 * pass is cheap but registers are not (the 1024-thread block allows 64 per thread), T = 3. Each threshold's sum
 * is accumulated and reduced exactly as a single-threshold pass would (same elements, same order, same tree),
 * so f(t) does not depend on which other thresholds share its pass, and the search lands on the same key
 * whatever T (the largest t with f(t) >= target, f non-increasing).
 */
#define LS_THRESHOLDS 7
#define LS_LIST_THRESHOLDS 3

/*
 * Adds one token (key, weight()) to a thread's f(t[j]) accumulators by the rules of LS_SUM_*; weight() is only
 * called for a token that adds to some threshold (t ascends: below t[0], or below the floor, adds to none).
 */
template <int T, typename Weight>
__device__ __forceinline__ void ls_accumulate(int what, unsigned long long key, unsigned long long floor,
                                              int idBits, const unsigned long long (&t)[T], double (&local)[T],
                                              Weight weight) {
    if (what == LS_SUM_COUNT) {
#pragma unroll
        for (int j = 0; j < T; j++) {
            local[j] += key >= t[j] ? 1.0 : 0.0;
        }
        return;
    }
    /* MASS_ID's probe is vocab - 1 - id, the key's low bits */
    const unsigned long long probe = what == LS_SUM_MASS ? key : key & ((1ull << idBits) - 1);
    if (key < floor || probe < t[0]) {
        return;
    }
    const double w = weight();
#pragma unroll
    for (int j = 0; j < T; j++) {
        if (probe >= t[j]) {
            local[j] += w;
        }
    }
}

/* f[j] = the block sum of every thread's local[j]: warp trees, then warp j over the warp sums (as ls_block_sum). */
template <int T>
__device__ __forceinline__ void ls_reduce_sums(const double (&local)[T], double (&f)[T], double* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    __syncthreads(); /* scratch may still be read by a previous reduction */
#pragma unroll
    for (int j = 0; j < T; j++) {
        const double v = ls_warp_sum(local[j]);
        if (lane == 0) {
            scratch[j * 32 + warp] = v;
        }
    }
    __syncthreads();
    if (warp < T) {   /* warp j sums threshold j over the warps, as ls_block_sum's warp 0 does */
        double w = lane < warps ? scratch[warp * 32 + lane] : 0.0;
        w = ls_warp_sum(w);
        __syncwarp();
        if (lane == 0) {
            scratch[warp * 32] = w;
        }
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < T; j++) {
        f[j] = scratch[j * 32];
    }
}

/*
 * f(t[j]) for every j (see LS_SUM_*); scratch holds 32 * T doubles. When the list holds every token that could
 * add (key >= low), every thread reads its entries instead of the row: the same additions in the same order (a
 * token not in the list adds 0.0 or nothing), so the same sums. Without UseList, always the row.
 */
template <int T, bool UseList>
__device__ void ls_row_sums(const LsSampleRow& row, int what, unsigned long long floor,
                            const unsigned long long (&t)[T], double (&f)[T], double* scratch,
                            const LsSampleList& list) {
    double local[T];
#pragma unroll
    for (int j = 0; j < T; j++) {
        local[j] = 0.0;
    }
    const unsigned long long t0 = t[0];
    const unsigned long long low = what == LS_SUM_COUNT ? t0 : what == LS_SUM_MASS ? (t0 > floor ? t0 : floor) : floor;
    /* one loop for both sources keeps one copy of its body (registers are the limit here) */
    const bool fromList = UseList && low >= list.state->cover;   /* block-uniform */
    const int steps = fromList ? list.n : (row.vocab - static_cast<int>(threadIdx.x) + static_cast<int>(blockDim.x) - 1)
                                          / static_cast<int>(blockDim.x);
    for (int s = 0; s < steps; s++) {
        const int slot = s * blockDim.x + threadIdx.x;   /* the list's entry, or the row's token */
        float logit = 0.0f;
        unsigned long long key;
        if (fromList) {
            key = list.entries[slot].key;
        } else {
            logit = row.logits[slot];
            if (!ls_valid(logit)) {
                continue;
            }
            key = ls_rank_key(logit, slot, row);
        }
        ls_accumulate(what, key, floor, row.idBits, t, local,
                      [&] { return fromList ? list.entries[slot].weight : ls_weight(logit, row); });
    }
    ls_reduce_sums<T>(local, f, scratch);
}

/* One sum over the row (f at t), by ls_row_sums' rules. */
__device__ double ls_row_sum(const LsSampleRow& row, int what, unsigned long long floor, unsigned long long t,
                             double* scratch, const LsSampleList& list) {
    const unsigned long long ts[1] = {t};
    double f[1];
    ls_row_sums<1, false>(row, what, floor, ts, f, scratch, list);
    return f[0];
}

/* The search's threshold j in [lo, hi]: lo + (j + 1) step, or hi past it (tested twice, harmless). */
__device__ __forceinline__ unsigned long long ls_threshold(unsigned long long lo, unsigned long long hi,
                                                           unsigned long long step, int j) {
    const unsigned long long offset = static_cast<unsigned long long>(j + 1) * step;
    return offset <= hi - lo ? lo + offset : hi;
}

/*
 * The largest t in [lo, hi] with f(t) >= target (f(t) > target when strict), lo when none above it passes;
 * f is non-increasing in t. Each pass cuts [lo, hi] into T + 1 parts and tests their starts.
 * fLo: f(lo) on entry (when the caller knows it), f(answer) on return when the answer is above the entry lo.
 */
template <int T, bool UseList>
__device__ unsigned long long ls_largest_key(const LsSampleRow& row, int what, unsigned long long floor,
                                             unsigned long long lo, unsigned long long hi, double target, bool strict,
                                             double* scratch, const LsSampleList& list, double& fLo) {
    while (lo < hi) {
        const unsigned long long step = (hi - lo) / (T + 1) + 1;   /* >= 1; t[j] = lo + (j+1) step */
        unsigned long long t[T];
#pragma unroll
        for (int j = 0; j < T; j++) {
            t[j] = ls_threshold(lo, hi, step, j);
        }
        double f[T];
        ls_row_sums<T, UseList>(row, what, floor, t, f, scratch, list);
        unsigned long long newLo = lo;
        unsigned long long newHi = hi;
#pragma unroll
        for (int j = 0; j < T; j++) {
            const unsigned long long tj = t[j];
            const bool pass = strict ? f[j] > target : f[j] >= target;
            if (pass) {
                if (tj > newLo) {
                    newLo = tj;
                    fLo = f[j];
                }
            } else if (tj - 1 < newHi) {
                newHi = tj - 1;
            }
        }
        /* the thresholds after the first failing one fail too (f non-increasing), so [newLo, newHi] holds the answer */
        lo = newLo;
        hi = newHi < lo ? lo : newHi;
    }
    return lo;
}

/* The largest v over the block; every thread gets it. scratch holds 32 values. */
__device__ unsigned long long ls_block_max_key(unsigned long long v, unsigned long long* scratch) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        const unsigned long long other = __shfl_xor_sync(LS_FULL_MASK, v, offset);
        v = other > v ? other : v;
    }
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    __syncthreads();   /* scratch may still be read by a previous reduction */
    if (lane == 0) {
        scratch[warp] = v;
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

/* What every row needs, from one pass: NaN/+inf logits, valid tokens (exact counts) and the best key. */
struct LsRowScan {
    double broken;
    double count;
    unsigned long long maxKey;
};

__device__ LsRowScan ls_scan_row(const LsSampleRow& row, double* scratch) {
    double broken = 0.0;
    double count = 0.0;
    unsigned long long best = 0;
    for (int i = threadIdx.x; i < row.vocab; i += blockDim.x) {
        const float logit = row.logits[i];
        broken += isnan(logit) || logit == INFINITY ? 1.0 : 0.0;
        if (ls_valid(logit)) {
            const unsigned long long key = ls_rank_key(logit, i, row);
            best = key > best ? key : best;
            count += 1.0;
        }
    }
    LsRowScan scan;
    scan.broken = ls_block_sum(broken, scratch);
    scan.count = ls_block_sum(count, scratch);
    /* keys of valid tokens are > 0 except the worst possible one; 0 doubles as "none" here and the count tells
       the two apart */
    scan.maxKey = ls_block_max_key(best, reinterpret_cast<unsigned long long*>(scratch));
    return scan;
}

#define LS_RADIX_BITS 11

/*
 * The m-th best key of the valid tokens (1 <= m <= their count): the largest t with count(key >= t) >= m, which
 * is what ls_largest_key(LS_SUM_COUNT, .., m) finds in ~17 passes; here by radix select, LS_RADIX_BITS bits of
 * the key per pass, with exact integer counts in shared memory (hist: 2^LS_RADIX_BITS counters; scan: 34).
 */
__device__ unsigned long long ls_kth_key(const LsSampleRow& row, unsigned m, unsigned* hist, unsigned* scan) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    unsigned long long prefix = 0;   /* the key's bits at and above `shift`, decided */
    int shift = 32 + row.idBits;
    while (shift > 0) {
        const int high = shift;
        const int bits = shift < LS_RADIX_BITS ? shift : LS_RADIX_BITS;
        shift -= bits;
        const int buckets = 1 << bits;
        __syncthreads();   /* the previous digit's counts and result may still be read */
        for (int b = threadIdx.x; b < buckets; b += blockDim.x) {
            hist[b] = 0;
        }
        __syncthreads();
        for (int i = threadIdx.x; i < row.vocab; i += blockDim.x) {
            const float logit = row.logits[i];
            if (ls_valid(logit)) {
                const unsigned long long key = ls_rank_key(logit, i, row);
                if ((key >> high) == (prefix >> high)) {
                    atomicAdd(&hist[(key >> shift) & static_cast<unsigned long long>(buckets - 1)], 1u);
                }
            }
        }
        __syncthreads();
        /* thread t owns the buckets 2t and 2t + 1 counted from the top; a block scan of the pairs finds the
           bucket where the count from the top reaches m */
        const int r = 2 * threadIdx.x;
        const unsigned c0 = r < buckets ? hist[buckets - 1 - r] : 0u;
        const unsigned c1 = r + 1 < buckets ? hist[buckets - 2 - r] : 0u;
        unsigned inclusive = c0 + c1;
#pragma unroll
        for (int offset = 1; offset < 32; offset <<= 1) {
            const unsigned v = __shfl_up_sync(LS_FULL_MASK, inclusive, offset);
            inclusive += lane >= offset ? v : 0u;
        }
        if (lane == 31) {
            scan[warp] = inclusive;
        }
        __syncthreads();
        if (warp == 0) {
            unsigned w = lane < warps ? scan[lane] : 0u;
#pragma unroll
            for (int offset = 1; offset < 32; offset <<= 1) {
                const unsigned v = __shfl_up_sync(LS_FULL_MASK, w, offset);
                w += lane >= offset ? v : 0u;
            }
            __syncwarp();
            scan[lane] = w;
        }
        __syncthreads();
        const unsigned before = (warp > 0 ? scan[warp - 1] : 0u) + inclusive - (c0 + c1);
        if (before < m && m <= before + c0 + c1) {   /* exactly one thread */
            const bool first = m <= before + c0;
            scan[32] = static_cast<unsigned>(first ? buckets - 1 - r : buckets - 2 - r);
            scan[33] = first ? before : before + c0;
        }
        __syncthreads();
        prefix |= static_cast<unsigned long long>(scan[32]) << shift;
        m -= scan[33];
    }
    return prefix;
}

/* What the pass that fills the list also sums, as ls_row_sum(LS_SUM_MASS, t, t) would. */
struct LsListSums {
    double atFloor;       /* f(floor): the candidates' mass */
    double atListFloor;   /* f(list floor), for ls_search_mass */
};

/*
 * Fills the candidate list with the valid tokens of key >= listFloor (>= floor), computing their weights, in one
 * pass that also sums f(floor) and f(listFloor) for LS_SUM_MASS.
 */
__device__ LsListSums ls_build_list(const LsSampleRow& row, unsigned long long listFloor, unsigned long long floor,
                                    double* scratch, LsSampleList& list) {
    __syncthreads();   /* the radix select's counters share the list's memory */
    double atFloor = 0.0;
    double atListFloor = 0.0;
    unsigned long long cover = listFloor;
    list.n = 0;
    for (int i = threadIdx.x; i < row.vocab; i += blockDim.x) {
        const float logit = row.logits[i];
        if (!ls_valid(logit)) {
            continue;
        }
        const unsigned long long key = ls_rank_key(logit, i, row);
        if (key < floor) {
            continue;
        }
        const double w = ls_weight(logit, row);
        atFloor += w;
        if (key < listFloor) {
            continue;
        }
        atListFloor += w;
        if (list.n < list.capacity) {
            LsListEntry e;
            e.key = key;
            e.weight = w;
            list.entries[list.n * blockDim.x + threadIdx.x] = e;
            list.n++;
        } else if (key >= cover) {
            cover = key + 1;   /* left out: the passes that may include it read the row */
        }
    }
    LsListSums sums;
    sums.atFloor = ls_block_sum(atFloor, scratch);
    sums.atListFloor = ls_block_sum(atListFloor, scratch);
    cover = ls_block_max_key(cover, reinterpret_cast<unsigned long long*>(scratch));
    if (threadIdx.x == 0) {
        list.state->floor = listFloor;
        list.state->cover = cover;
        list.state->atFloor = sums.atListFloor;
    }
    __syncthreads();
    return sums;
}

/*
 * ls_largest_key over LS_SUM_MASS with floor <= the list's floor, first testing the list's floor when it lies in
 * (lo, hi] (f there is known from ls_build_list): f is non-increasing, so when it passes the answer is at
 * or above it and the whole search reads the list; when it fails the answer is below it. Either way the answer
 * is the one ls_largest_key(lo, hi) finds.
 */
__device__ unsigned long long ls_search_mass(const LsSampleRow& row, unsigned long long floor, unsigned long long lo,
                                             unsigned long long hi, double target, bool strict, double* scratch,
                                             const LsSampleList& list, double& fLo) {
    const unsigned long long listFloor = list.state->floor;
    if (lo < listFloor && listFloor <= hi) {
        const double fList = list.state->atFloor;
        if (strict ? fList > target : fList >= target) {
            lo = listFloor;
            fLo = fList;
        } else {
            hi = listFloor - 1;
        }
    }
    return ls_largest_key<LS_LIST_THRESHOLDS, true>(row, LS_SUM_MASS, floor, lo, hi, target, strict, scratch, list,
                                                    fLo);
}

/*
 * The draw in id order (no truncation): ls_largest_key(LS_SUM_MASS_ID, floor 0, [0, vocab - 1]) with fewer exps.
 * f(t) sums the valid tokens of id <= vocab - 1 - t; every threshold left in [lo, hi] includes ids <= vocab - 1 - hi,
 * so each thread carries their sum (base, accumulated in its token order as a pass would) and a pass only reads
 * ids in (vocab - 1 - hi, vocab - 1 - t[0]]: about one exp per token over the whole search instead of one per pass.
 */
__device__ unsigned long long ls_search_id(const LsSampleRow& row, double target, bool strict, double* scratch) {
    unsigned long long lo = 0;
    unsigned long long hi = static_cast<unsigned long long>(row.vocab - 1);
    double base = 0.0;           /* this thread's valid tokens of id <= vocab - 1 - hi, summed in id order */
    int next = threadIdx.x;      /* its first token not in base */
    while (lo < hi) {
        const unsigned long long step = (hi - lo) / (LS_THRESHOLDS + 1) + 1;
        unsigned long long t[LS_THRESHOLDS];
        double local[LS_THRESHOLDS];
#pragma unroll
        for (int j = 0; j < LS_THRESHOLDS; j++) {
            t[j] = ls_threshold(lo, hi, step, j);
            local[j] = base;
        }
        const int last = row.vocab - 1 - static_cast<int>(t[0]);   /* ids above add to no threshold */
        for (int i = next; i <= last; i += blockDim.x) {
            const float logit = row.logits[i];
            if (!ls_valid(logit)) {
                continue;
            }
            const unsigned long long probe = static_cast<unsigned long long>(row.vocab - 1 - i);
            const double w = ls_weight(logit, row);
#pragma unroll
            for (int j = 0; j < LS_THRESHOLDS; j++) {
                if (probe >= t[j]) {
                    local[j] += w;
                }
            }
        }
        double f[LS_THRESHOLDS];
        ls_reduce_sums<LS_THRESHOLDS>(local, f, scratch);
        unsigned long long newLo = lo;
        unsigned long long newHi = hi;
        double below = base;   /* base over ids <= vocab - 1 - newHi, less the token at exactly that id */
#pragma unroll
        for (int j = 0; j < LS_THRESHOLDS; j++) {
            const bool pass = strict ? f[j] > target : f[j] >= target;
            if (pass) {
                newLo = t[j] > newLo ? t[j] : newLo;
            } else if (t[j] - 1 < newHi) {
                newHi = t[j] - 1;
                below = local[j];
            }
        }
        if (newHi < hi) {   /* base moves up to id vocab - 1 - newHi: local[j] of the first failing t[j], + that id */
            const int top = row.vocab - 1 - static_cast<int>(newHi);
            base = below;
            if (top % static_cast<int>(blockDim.x) == static_cast<int>(threadIdx.x)) {
                const float logit = row.logits[top];
                if (ls_valid(logit)) {
                    base += ls_weight(logit, row);
                }
            }
            next = top + 1 + ((static_cast<int>(threadIdx.x) - top - 1) % static_cast<int>(blockDim.x)
                              + static_cast<int>(blockDim.x)) % static_cast<int>(blockDim.x);
        }
        lo = newLo;
        hi = newHi < lo ? lo : newHi;
    }
    return lo;
}

/* The candidates' floor and total, before the draw. */
struct LsCut {
    unsigned long long floor;
    double total;
};

/* The draw: an inverse-CDF walk over the candidates (key >= floor), best first when ordered, else in id order. */
__device__ int ls_draw(const LsSampleRow& row, LsCut cut, bool ordered, double uniform, double* scratch,
                       const LsSampleList& list) {
    const unsigned long long maxKey = list.state->maxKey;
    const double x = uniform * cut.total;
    const bool reached = cut.total > x; /* else rounding: the last candidate of positive weight */
    const double target = reached ? x : cut.total;
    double unused = 0.0;
    if (ordered && list.state->cover != ~0ull) {
        return ls_token_of(ls_search_mass(row, cut.floor, cut.floor, maxKey, target, reached, scratch, list, unused),
                           row);
    }
    if (ordered) {
        return ls_token_of(ls_largest_key<LS_THRESHOLDS, false>(row, LS_SUM_MASS, cut.floor, cut.floor, maxKey, target,
                                                                reached, scratch, list, unused), row);
    }
    /* floor 0 here; listPerThread 0 keeps every pass of the search over the row, as before ls_search_id */
    const unsigned long long t = list.capacity > 0 ? ls_search_id(row, target, reached, scratch)
            : ls_largest_key<LS_THRESHOLDS, false>(row, LS_SUM_MASS_ID, 0, 0,
                                                   static_cast<unsigned long long>(row.vocab - 1), target, reached,
                                                   scratch, list, unused);
    return row.vocab - 1 - static_cast<int>(t);
}

/* Top-k and top-p by passes over the row alone (no list): k-ary searches, ~17 passes each. */
__device__ LsCut ls_cut_rowwise(const LsSampleRow& row, bool cutK, int topK, bool cutP, double topP,
                                double* scratch, const LsSampleList& list) {
    const unsigned long long maxKey = list.state->maxKey;
    LsCut cut;
    cut.floor = 0;
    double unused = 0.0;
    if (cutK) {
        cut.floor = ls_largest_key<LS_THRESHOLDS, false>(row, LS_SUM_COUNT, 0, 0, maxKey, topK, false, scratch, list,
                                                         unused);
    }
    if (cutP) {
        const double mass = ls_row_sum(row, LS_SUM_MASS, cut.floor, cut.floor, scratch, list);
        cut.floor = ls_largest_key<LS_THRESHOLDS, false>(row, LS_SUM_MASS, cut.floor, cut.floor, maxKey, topP * mass,
                                                         false, scratch, list, unused);
    }
    cut.total = ls_row_sum(row, LS_SUM_MASS, cut.floor, cut.floor, scratch, list);
    return cut;
}

/*
 * Top-k and top-p through the candidate list: top-k's floor and the list's by radix select, then the list
 * (which sums f(floor), the mass, and f(list floor)); top-p's search returns f at its answer, the total.
 */
__device__ LsCut ls_cut_listed(const LsSampleRow& row, bool cutK, int topK, bool cutP, double topP, double count,
                               float* smem, double* scratch, LsSampleList& list) {
    unsigned* hist = reinterpret_cast<unsigned*>(smem);
    unsigned* counts = reinterpret_cast<unsigned*>(scratch);
    const int listed = list.capacity * static_cast<int>(blockDim.x) / LS_SAMPLE_LIST_SPARSITY;
    LsCut cut;
    cut.floor = cutK ? ls_kth_key(row, static_cast<unsigned>(topK), hist, counts) : 0;
    unsigned long long listFloor = 0;   /* when the list can hold every valid token */
    if (cutK && topK <= listed) {
        listFloor = cut.floor;
    } else if (count > listed) {
        listFloor = ls_kth_key(row, static_cast<unsigned>(listed), hist, counts);
    }
    const LsListSums sums = ls_build_list(row, listFloor, cut.floor, scratch, list);
    cut.total = sums.atFloor;
    if (cutP) {   /* f(floor) is the mass; f at top-p's answer the total */
        cut.floor = ls_search_mass(row, cut.floor, cut.floor, list.state->maxKey, topP * sums.atFloor, false,
                                   scratch, list, cut.total);
    }
    return cut;
}

extern "C" __global__ void __launch_bounds__(LS_SAMPLE_THREADS, 1) ls_sample(const LsSampleParams p) {
    __shared__ double scratch[32 * LS_THRESHOLDS];
    __shared__ double scale[2];
    __shared__ LsListState listState;
    extern __shared__ __align__(16) float smem[];
    const int r = blockIdx.x;
    LsSampleRow row;
    row.logits = reinterpret_cast<const float*>(p.logits) + static_cast<long long>(r) * p.logitsStride;
    row.vocab = p.vocab;
    row.idBits = 32 - __clz(p.vocab - 1 > 0 ? p.vocab - 1 : 1);
    row.scale = scale;
    int* tokens = reinterpret_cast<int*>(p.tokens);

    const LsRowScan scan = ls_scan_row(row, scratch);
    if (scan.broken != 0.0) {
        if (threadIdx.x == 0) {
            tokens[r] = -2; /* a NaN or +inf logit: the Java side fails the row as the host Sampler would */
        }
        return;
    }
    if (scan.count == 0.0) {
        if (threadIdx.x == 0) {
            tokens[r] = -1; /* every logit is -inf: the Java side reports it */
        }
        return;
    }
    const int best = ls_token_of(scan.maxKey, row);
    const double invTemperature = reinterpret_cast<const double*>(p.invTemperature)[r];
    if (invTemperature == 0.0) {
        if (threadIdx.x == 0) {
            tokens[r] = best;
        }
        return;
    }
    if (threadIdx.x == 0) {
        scale[0] = invTemperature;
        scale[1] = static_cast<double>(row.logits[best]) * invTemperature;
        listState.floor = 0;
        listState.cover = ~0ull;
        listState.maxKey = scan.maxKey;
    }
    __syncthreads();

    const int topK = reinterpret_cast<const int*>(p.topK)[r];
    const double topP = reinterpret_cast<const double*>(p.topP)[r];
    const bool cutK = topK > 0 && topK < scan.count;
    const bool cutP = topP < 1.0;
    LsSampleList list;   /* none yet (listState): no thread answers from it, no search tests its floor */
    list.entries = reinterpret_cast<LsListEntry*>(smem);
    list.capacity = p.listPerThread;
    list.n = 0;
    list.state = &listState;
    const LsCut cut = (cutK || cutP) && list.capacity > 0
            ? ls_cut_listed(row, cutK, topK, cutP, topP, scan.count, smem, scratch, list)
            : ls_cut_rowwise(row, cutK, topK, cutP, topP, scratch, list);
    const int token = ls_draw(row, cut, cutK || cutP, reinterpret_cast<const double*>(p.uniform)[r],
                              scratch, list);
    if (threadIdx.x == 0) {
        tokens[r] = token;
    }
}

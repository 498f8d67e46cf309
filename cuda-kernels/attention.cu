/*
 * Attention kernels: one generic causal attention (MLA prefill over decompressed keys, MLA absorbed decode
 * over the latent cache, MHA/GQA over a [K | V] cache), and the two small per-head products of absorbed
 * MLA (W_UK folded into the query before, W_UV applied after). First correct versions: one block per
 * (token, head), warps striding over key positions with an online softmax, no tiling across tokens.
 */
#include "include/ls_common.cuh"

#define LS_ATTN_THREADS (32 * LS_ATTN_WARPS)

/* Row of key position s for work item w: through the block table (paged) or from the context base. */
__device__ __forceinline__ long long ls_key_row(const LsAttentionParams& p, int seq, int s) {
    if (p.blockTables != 0) {
        const int* table = reinterpret_cast<const int*>(p.blockTables) + static_cast<long long>(seq) * p.maxBlocks;
        return static_cast<long long>(table[s / p.blockSize]) * p.blockSize + s % p.blockSize;
    }
    return static_cast<long long>(reinterpret_cast<const int*>(p.ctxBase)[seq]) + s;
}

/* One key/value element widened to f32: the cache is f32 or bf16 (LsAttentionParams.kvDtype). */
__device__ __forceinline__ float ls_kv_value(const float* base, long long i) {
    return base[i];
}
__device__ __forceinline__ float ls_kv_value(const unsigned short* base, long long i) {
    return ls_bf16_to_float(base[i]);
}

/*
 * This warp's share of the key positions (warp, warp + LS_ATTN_WARPS, ...) with an online softmax: m, l and the
 * lane's value accumulators acc (columns lane + 32*j) over keys and values of element type T.
 */
template <typename T>
__device__ __forceinline__ void ls_attention_keys(const LsAttentionParams& p, const float* qs, int seq, int g,
                                                  int last, int warp, int lane, float& m, float& l,
                                                  float (&acc)[LS_ATTN_MAX_V_PER_LANE]) {
    const T* k1Base = reinterpret_cast<const T*>(p.k1) + static_cast<long long>(g) * p.k1HeadStride;
    const T* k2Base = reinterpret_cast<const T*>(p.k2) + static_cast<long long>(g) * p.k2HeadStride;
    const T* vBase = reinterpret_cast<const T*>(p.v) + static_cast<long long>(g) * p.vHeadStride;
    for (int s = warp; s <= last; s += LS_ATTN_WARPS) {
        const long long r = ls_key_row(p, seq, s);
        const T* k1 = k1Base + r * p.k1Stride;
        float dot = 0.0f;
        for (int i = lane; i < p.d1; i += 32) {
            dot = fmaf(qs[i], ls_kv_value(k1, i), dot);
        }
        if (p.d2 > 0) {
            const T* k2 = k2Base + r * p.k2Stride;
            for (int i = lane; i < p.d2; i += 32) {
                dot = fmaf(qs[p.d1 + i], ls_kv_value(k2, i), dot);
            }
        }
        const float score = ls_warp_sum(dot) * p.scale;
        const float mNew = fmaxf(m, score);
        const float correction = ls_exp_f(m - mNew);
        const float weight = ls_exp_f(score - mNew);
        l = l * correction + weight;
        m = mNew;
        const T* v = vBase + r * p.vStride;
#pragma unroll
        for (int j = 0; j < LS_ATTN_MAX_V_PER_LANE; j++) {
            const int c = lane + 32 * j;
            if (c < p.dv) {
                acc[j] = fmaf(weight, ls_kv_value(v, c), acc[j] * correction);
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(LS_ATTN_THREADS) ls_attention(const LsAttentionParams p) {
    extern __shared__ float smem[];
    const int w = blockIdx.x;
    const int h = blockIdx.y;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int qk = p.d1 + p.d2;
    float* qs = smem;                                  /* [qk] */
    float* mergeM = smem + qk;                         /* [LS_ATTN_WARPS] */
    float* mergeL = mergeM + LS_ATTN_WARPS;            /* [LS_ATTN_WARPS] */
    float* mergeAcc = mergeL + LS_ATTN_WARPS;          /* [LS_ATTN_WARPS, dv] */

    const int* tokenRows = reinterpret_cast<const int*>(p.tokenRows);
    const long long row = tokenRows == nullptr ? w : tokenRows[w];
    const int last = reinterpret_cast<const int*>(p.positions)[w];
    const int seq = reinterpret_cast<const int*>(p.seqOf)[w];
    const int g = h / p.groupSize;

    const float* q = reinterpret_cast<const float*>(p.q) + row * p.qStride + static_cast<long long>(h) * p.qHeadStride;
    for (int i = threadIdx.x; i < qk; i += blockDim.x) {
        qs[i] = q[i];
    }
    __syncthreads();

    float m = -INFINITY;   /* running max of this warp's scores */
    float l = 0.0f;        /* running sum of exp(score - m) */
    float acc[LS_ATTN_MAX_V_PER_LANE];
#pragma unroll
    for (int j = 0; j < LS_ATTN_MAX_V_PER_LANE; j++) {
        acc[j] = 0.0f;
    }
    /* The element type is uniform over the launch: one branch here, none in the key loop. */
    if (p.kvDtype == LS_DTYPE_BF16) {
        ls_attention_keys<unsigned short>(p, qs, seq, g, last, warp, lane, m, l, acc);
    } else {
        ls_attention_keys<float>(p, qs, seq, g, last, warp, lane, m, l, acc);
    }

    if (lane == 0) {
        mergeM[warp] = m;
        mergeL[warp] = l;
    }
#pragma unroll
    for (int j = 0; j < LS_ATTN_MAX_V_PER_LANE; j++) {
        const int c = lane + 32 * j;
        if (c < p.dv) {
            mergeAcc[warp * p.dv + c] = acc[j];
        }
    }
    __syncthreads();

    float mAll = -INFINITY;
    for (int k = 0; k < LS_ATTN_WARPS; k++) {
        mAll = fmaxf(mAll, mergeM[k]);
    }
    float lAll = 0.0f;
    for (int k = 0; k < LS_ATTN_WARPS; k++) {
        if (mergeL[k] > 0.0f) {
            lAll += mergeL[k] * ls_exp_f(mergeM[k] - mAll);
        }
    }
    const float invL = 1.0f / lAll;
    float* out = reinterpret_cast<float*>(p.out) + row * p.outStride + static_cast<long long>(h) * p.outHeadStride;
    for (int c = threadIdx.x; c < p.dv; c += blockDim.x) {
        float o = 0.0f;
        for (int k = 0; k < LS_ATTN_WARPS; k++) {
            if (mergeL[k] > 0.0f) {
                o = fmaf(mergeAcc[k * p.dv + c], ls_exp_f(mergeM[k] - mAll), o);
            }
        }
        out[c] = o * invL;
    }
}

/*
 * grid (numWork, numHeads * ceil(r / 32)): blockIdx.y = head * tiles + tile, one tile of 32 latent columns
 * per block (lane = column), the dn products split over the 8 warps and their partial sums added in warp
 * order. Decode has one work item per sequence: one block per (row, head) left most SMs idle while each
 * thread walked all dn weight rows one dependent load after another.
 */
extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_mla_absorb_q(const LsMlaAbsorbParams p) {
    __shared__ float partial[LS_THREADS / 32][32];
    const int tiles = (p.r + 31) / 32;
    const int w = blockIdx.x;
    const int h = blockIdx.y / tiles;
    const int c = (blockIdx.y % tiles) * 32 + (threadIdx.x & 31);
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    const long long t = reinterpret_cast<const int*>(p.tokenRows)[w];
    const float* q = reinterpret_cast<const float*>(p.q) + t * p.qStride + static_cast<long long>(h) * (p.dn + p.dr);
    const void* kvB = reinterpret_cast<const void*>(p.kvB);
    const long long ukRow = static_cast<long long>(h) * (p.dn + p.dv);
    float* qa = reinterpret_cast<float*>(p.qa) + (static_cast<long long>(w) * p.numHeads + h) * (p.r + p.dr);
    const int per = (p.dn + warps - 1) / warps;
    const int j0 = warp * per;
    const int j1 = min(p.dn, j0 + per);
    float sum = 0.0f;
    if (c < p.r) {
        for (int j = j0; j < j1; j++) {
            sum = fmaf(ls_load_weight(kvB, (ukRow + j) * p.r + c, p.kvBDtype), q[j], sum);
        }
    }
    partial[warp][threadIdx.x & 31] = sum;
    __syncthreads();
    if (warp == 0 && c < p.r) {
        float total = 0.0f;
        for (int k = 0; k < warps; k++) {
            total += partial[k][threadIdx.x];
        }
        qa[c] = total;
    }
    if (blockIdx.y % tiles == 0) {
        for (int i = threadIdx.x; i < p.dr; i += blockDim.x) {
            qa[p.r + i] = q[p.dn + i];
        }
    }
}

/*
 * grid (numWork, numHeads * ceil(dv / 16)): blockIdx.y = head * tiles + tile, 16 output values per block,
 * two per warp, lanes over the r latent columns (more blocks than one per (row, head), for decode).
 */
extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_mla_apply_uv(const LsMlaApplyUvParams p) {
    const int tiles = (p.dv + 15) / 16;
    const int w = blockIdx.x;
    const int h = blockIdx.y / tiles;
    const int first = (blockIdx.y % tiles) * 16;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    const long long t = reinterpret_cast<const int*>(p.tokenRows)[w];
    const float* o = reinterpret_cast<const float*>(p.oLatent) + (static_cast<long long>(w) * p.numHeads + h) * p.r;
    const void* kvB = reinterpret_cast<const void*>(p.kvB);
    const long long uvRow = static_cast<long long>(h) * (p.dn + p.dv) + p.dn;
    float* out = reinterpret_cast<float*>(p.out) + t * p.outStride + static_cast<long long>(h) * p.dv;
    for (int i = first + warp; i < min(p.dv, first + 16); i += warps) {
        float sum = 0.0f;
        for (int c = lane; c < p.r; c += 32) {
            sum = fmaf(ls_load_weight(kvB, (uvRow + i) * p.r + c, p.kvBDtype), o[c], sum);
        }
        sum = ls_warp_sum(sum);
        if (lane == 0) {
            out[i] = sum;
        }
    }
}

/*
 * Row-wise causal softmax of prefill scores (QKᵀ from cuBLAS) in place: the P of P·V. Three passes over the
 * row (max, sum, write) with deterministic block reductions; exp as ls_attention computes it.
 */
extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_causal_softmax(const LsCausalSoftmaxParams p) {
    __shared__ float scratch[32];
    const long long row = blockIdx.x;
    float* s = reinterpret_cast<float*>(p.scores) + row * p.cols;
    const int q = static_cast<int>(row % p.queries);
    const int visible = min(p.cols, p.firstPosition + q + 1);
    float m = -INFINITY;
    for (int j = threadIdx.x; j < visible; j += blockDim.x) {
        m = fmaxf(m, s[j] * p.scale);
    }
    m = ls_block_max(m, scratch);
    float sum = 0.0f;
    for (int j = threadIdx.x; j < visible; j += blockDim.x) {
        sum += ls_exp_f(s[j] * p.scale - m);
    }
    sum = ls_block_sum(sum, scratch);
    const float inv = 1.0f / sum;
    for (int j = threadIdx.x; j < p.cols; j += blockDim.x) {
        s[j] = j < visible ? ls_exp_f(s[j] * p.scale - m) * inv : 0.0f;
    }
}

/*
 * Row-wise and element-wise kernels: embedding gather, RMSNorm (optionally fused with the residual add),
 * add, SiLU-gate, RoPE, row copies through index maps (KV-cache writes, gathers), and the f32 -> bf16
 * hi/lo split that feeds cuBLAS. Compiled with -fmad=false: like Java, a*b + c is two roundings unless
 * the code says fmaf.
 */
#include "include/ls_common.cuh"

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_embedding(const LsEmbeddingParams p) {
    const int t = blockIdx.x;
    const long long id = static_cast<const int*>(reinterpret_cast<const void*>(p.ids))[t];
    const void* table = reinterpret_cast<const void*>(p.table);
    float* out = reinterpret_cast<float*>(p.out) + static_cast<long long>(t) * p.outStride;
    for (int c = threadIdx.x; c < p.cols; c += blockDim.x) {
        out[c] = ls_load_weight(table, id * p.cols + c, p.tableDtype);
    }
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_rmsnorm(const LsRmsNormParams p) {
    __shared__ float scratch[32];
    const int t = blockIdx.x;
    float* x = reinterpret_cast<float*>(p.x) + static_cast<long long>(t) * p.xStride;
    float* out = reinterpret_cast<float*>(p.out) + static_cast<long long>(t) * p.outStride;
    const float* residual = p.residual == 0 ? nullptr
            : reinterpret_cast<const float*>(p.residual) + static_cast<long long>(t) * p.residualStride;
    const void* weight = reinterpret_cast<const void*>(p.weight);

    float ss = 0.0f;
    for (int c = threadIdx.x; c < p.cols; c += blockDim.x) {
        float v = x[c];
        if (residual != nullptr) {
            v = v + residual[c];
            x[c] = v;
        }
        ss = ss + v * v;
    }
    ss = ls_block_sum(ss, scratch);
    /* as Java: (float) (1.0 / Math.sqrt(ss / n + eps)) with ss / n + eps in float */
    const float meanPlusEps = ss / static_cast<float>(p.cols) + p.eps;
    const float inv = static_cast<float>(1.0 / sqrt(static_cast<double>(meanPlusEps)));
    for (int c = threadIdx.x; c < p.cols; c += blockDim.x) {
        out[c] = x[c] * inv * ls_load_weight(weight, c, p.weightDtype);
    }
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_add(const LsAddParams p) {
    const int c = blockIdx.y * blockDim.x + threadIdx.x;
    const long long t = blockIdx.x;
    if (c >= p.cols) {
        return;
    }
    const float a = reinterpret_cast<const float*>(p.a)[t * p.aStride + c];
    const float b = reinterpret_cast<const float*>(p.b)[t * p.bStride + c];
    reinterpret_cast<float*>(p.out)[t * p.outStride + c] = a + b;
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_silu_mul(const LsSiluMulParams p) {
    const int c = blockIdx.y * blockDim.x + threadIdx.x;
    const long long t = blockIdx.x;
    if (c >= p.cols) {
        return;
    }
    const float z = reinterpret_cast<const float*>(p.gate)[t * p.gateStride + c];
    const float u = reinterpret_cast<const float*>(p.up)[t * p.upStride + c];
    /* as Java: z / (1f + (float) StrictMath.exp(-z)) * up */
    reinterpret_cast<float*>(p.out)[t * p.outStride + c] = z / (1.0f + ls_exp_f(-z)) * u;
}

extern "C" __global__ void __launch_bounds__(LS_ROPE_THREADS) ls_rope(const LsRopeParams p) {
    const int t = blockIdx.x;
    const int h = blockIdx.y;
    const long long pos = static_cast<const int*>(reinterpret_cast<const void*>(p.positions))[t];
    const float* cosRow = reinterpret_cast<const float*>(p.cosTable) + pos * p.half;
    const float* sinRow = reinterpret_cast<const float*>(p.sinTable) + pos * p.half;
    float* base = reinterpret_cast<float*>(p.x) + static_cast<long long>(t) * p.stride
            + static_cast<long long>(h) * p.headStride + p.ropeOffset;
    for (int i = threadIdx.x; i < p.half; i += blockDim.x) {
        const float c = cosRow[i];
        const float s = sinRow[i];
        const int ia = p.style == LS_ROPE_INTERLEAVED ? 2 * i : i;
        const int ib = p.style == LS_ROPE_INTERLEAVED ? ia + 1 : i + p.half;
        const float a = base[ia];
        const float b = base[ib];
        base[ia] = a * c - b * s;
        base[ib] = a * s + b * c;
    }
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_mla_latent(const LsMlaLatentParams p) {
    __shared__ float scratch[32];
    const int t = blockIdx.x;
    float* x = reinterpret_cast<float*>(p.kv) + static_cast<long long>(t) * p.kvStride;
    const void* weight = reinterpret_cast<const void*>(p.weight);
    /* c: ls_rmsnorm's arithmetic (same loop, same block sum over LS_THREADS threads) */
    float ss = 0.0f;
    for (int c = threadIdx.x; c < p.r; c += blockDim.x) {
        const float v = x[c];
        ss = ss + v * v;
    }
    ss = ls_block_sum(ss, scratch);
    const float meanPlusEps = ss / static_cast<float>(p.r) + p.eps;
    const float inv = static_cast<float>(1.0 / sqrt(static_cast<double>(meanPlusEps)));
    for (int c = threadIdx.x; c < p.r; c += blockDim.x) {
        x[c] = x[c] * inv * ls_load_weight(weight, c, p.weightDtype);
    }
    /* k_pe: ls_rope's arithmetic for one head at column r */
    const int half = p.dr / 2;
    const long long pos = reinterpret_cast<const int*>(p.positions)[t];
    const float* cosRow = reinterpret_cast<const float*>(p.cosTable) + pos * half;
    const float* sinRow = reinterpret_cast<const float*>(p.sinTable) + pos * half;
    float* pe = x + p.r;
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        const float c = cosRow[i];
        const float s = sinRow[i];
        const int ia = p.style == LS_ROPE_INTERLEAVED ? 2 * i : i;
        const int ib = p.style == LS_ROPE_INTERLEAVED ? ia + 1 : i + half;
        const float a = pe[ia];
        const float b = pe[ib];
        pe[ia] = a * c - b * s;
        pe[ib] = a * s + b * c;
    }
    __syncthreads(); /* the row is final: every thread copies values others wrote */
    const int width = p.r + p.dr;
    const long long d = static_cast<long long>(reinterpret_cast<const int*>(p.slots)[t]) * width;
    for (int c = threadIdx.x; c < width; c += blockDim.x) {
        if (p.cacheDtype == LS_DTYPE_BF16) {
            reinterpret_cast<unsigned short*>(p.cache)[d + c] = ls_to_bf16(x[c]);
        } else {
            reinterpret_cast<float*>(p.cache)[d + c] = x[c];
        }
    }
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_copy_rows(const LsCopyRowsParams p) {
    const int c = blockIdx.y * blockDim.x + threadIdx.x;
    const int i = blockIdx.x;
    if (c >= p.cols) {
        return;
    }
    const int* srcIndex = reinterpret_cast<const int*>(p.srcIndex);
    const int* dstIndex = reinterpret_cast<const int*>(p.dstIndex);
    const long long s = (srcIndex == nullptr ? i : srcIndex[i]) * p.srcStride + c;
    const long long d = (dstIndex == nullptr ? i : dstIndex[i]) * p.dstStride + c;
    /* Element types are uniform over the launch: the branches do not diverge. */
    const float x = p.srcDtype == LS_DTYPE_BF16 ? ls_bf16_to_float(reinterpret_cast<const unsigned short*>(p.src)[s])
                                                : reinterpret_cast<const float*>(p.src)[s];
    if (p.dstDtype == LS_DTYPE_BF16) {
        reinterpret_cast<unsigned short*>(p.dst)[d] = ls_to_bf16(x);   /* exact when src is bf16 */
    } else {
        reinterpret_cast<float*>(p.dst)[d] = x;
    }
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_split_bf16(const LsSplitBf16Params p) {
    const int c = blockIdx.y * blockDim.x + threadIdx.x;
    const long long t = blockIdx.x;
    if (c >= p.cols) {
        return;
    }
    const float x = reinterpret_cast<const float*>(p.x)[t * p.xStride + c];
    const unsigned short hi = ls_to_bf16(x);
    unsigned short* out = reinterpret_cast<unsigned short*>(p.out);
    out[t * p.cols + c] = hi;
    if (!p.hiOnly) {
        out[(t + p.rows) * p.cols + c] = ls_to_bf16(x - ls_bf16_to_float(hi)); /* x - hi is exact in f32 */
    }
}

/* Small device helpers shared by the LatentServe kernels. No fast math anywhere: results must track the
 * CPU backend (Java float arithmetic, StrictMath.exp/cos/sin rounded to float). */
#ifndef LS_COMMON_CUH
#define LS_COMMON_CUH

#include "latentserve_params.h"

#define LS_FULL_MASK 0xffffffffu

/* Element i of a weight row, widened to f32. */
__device__ __forceinline__ float ls_load_weight(const void* base, long long i, int dtype) {
    if (dtype == LS_DTYPE_BF16) {
        unsigned short raw = static_cast<const unsigned short*>(base)[i];
        return __uint_as_float(static_cast<unsigned>(raw) << 16);
    }
    return static_cast<const float*>(base)[i];
}

/* f32 -> bf16 bits, round to nearest even (NaN stays a quiet NaN). */
__device__ __forceinline__ unsigned short ls_to_bf16(float x) {
    unsigned u = __float_as_uint(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return static_cast<unsigned short>((u >> 16) | 0x40u);
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<unsigned short>(u >> 16);
}

__device__ __forceinline__ float ls_bf16_to_float(unsigned short b) {
    return __uint_as_float(static_cast<unsigned>(b) << 16);
}

/* exp rounded like Java's (float) StrictMath.exp(x): computed in f64, rounded once to f32. */
__device__ __forceinline__ float ls_exp_f(float x) {
    return static_cast<float>(exp(static_cast<double>(x)));
}

template <typename T>
__device__ __forceinline__ T ls_warp_sum(T v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(LS_FULL_MASK, v, offset);
    }
    return v;
}

__device__ __forceinline__ float ls_warp_max(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(LS_FULL_MASK, v, offset));
    }
    return v;
}

/*
 * Sum over the block in a fixed order (warp trees, then warp 0 over the warp sums): deterministic.
 * scratch holds at least 32 values; every thread gets the result. blockDim.x is a multiple of 32.
 */
template <typename T>
__device__ __forceinline__ T ls_block_sum(T v, T* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    v = ls_warp_sum(v);
    __syncthreads(); /* scratch may still be read by a previous call */
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        T w = lane < warps ? scratch[lane] : T(0);
        w = ls_warp_sum(w);
        if (lane == 0) {
            scratch[0] = w;
        }
    }
    __syncthreads();
    return scratch[0];
}

__device__ __forceinline__ float ls_block_max(float v, float* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    v = ls_warp_max(v);
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : -INFINITY;
        w = ls_warp_max(w);
        if (lane == 0) {
            scratch[0] = w;
        }
    }
    __syncthreads();
    return scratch[0];
}

#endif /* LS_COMMON_CUH */

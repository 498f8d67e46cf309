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

/* The 8 bf16 values of one 16-byte word widened exactly to f32 (little-endian: the low half of each 32-bit
 * lane is the element with the lower index). */
__device__ __forceinline__ void ls_bf16x8(const uint4 raw, float (&v)[8]) {
    v[0] = __uint_as_float(raw.x << 16);
    v[1] = __uint_as_float(raw.x & 0xffff0000u);
    v[2] = __uint_as_float(raw.y << 16);
    v[3] = __uint_as_float(raw.y & 0xffff0000u);
    v[4] = __uint_as_float(raw.z << 16);
    v[5] = __uint_as_float(raw.z & 0xffff0000u);
    v[6] = __uint_as_float(raw.w << 16);
    v[7] = __uint_as_float(raw.w & 0xffff0000u);
}

/*
 * Sums 32 values over the 32 lanes of a warp: lane l returns the total of value l. Each step halves the
 * values a lane holds, giving one half to the partner lane (lane ^ W) and adding the half it gets back:
 * 31 shuffles where a warp sum per value takes 32 x 5; the tree is fixed, so the result is deterministic.
 */
template <int W>
__device__ __forceinline__ void ls_reduce_scatter_step(float (&v)[32], int lane) {
    const bool upper = (lane & W) != 0;
#pragma unroll
    for (int k = 0; k < W; k++) {
        const float give = upper ? v[k] : v[k + W];
        const float keep = upper ? v[k + W] : v[k];
        v[k] = keep + __shfl_xor_sync(LS_FULL_MASK, give, W);
    }
}

/* Steps spelled out (not a loop over W) so every index is a compile-time constant: v stays in registers. */
__device__ __forceinline__ float ls_warp_reduce_scatter(float (&v)[32]) {
    const int lane = threadIdx.x & 31;
    ls_reduce_scatter_step<16>(v, lane);
    ls_reduce_scatter_step<8>(v, lane);
    ls_reduce_scatter_step<4>(v, lane);
    ls_reduce_scatter_step<2>(v, lane);
    ls_reduce_scatter_step<1>(v, lane);
    return v[0];
}

/* Two f32 values rounded to bf16 and packed as one mma operand register (lo: the lower index). */
__device__ __forceinline__ unsigned ls_pack_bf16x2(float lo, float hi) {
    return static_cast<unsigned>(ls_to_bf16(lo)) | (static_cast<unsigned>(ls_to_bf16(hi)) << 16);
}

/*
 * One warp-wide tensor-core product D = A·B + C with A 16x16 bf16 (row-major fragments), B 16x8 bf16
 * (column-major fragments), C and D 16x8 f32: mma.sync m16n8k16 (HMMA on sm_80 and sm_90). The fragment
 * each lane holds is the PTX ISA's; the emulation (emu.h, emu_mma_bf16_16816) spells it out. All 32 lanes
 * of the warp must call it together.
 */
__device__ __forceinline__ void ls_mma_bf16_16816(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2],
                                                  const float (&c)[4]) {
#ifdef LS_EMULATION
    emu_mma_bf16_16816(d, a, b, c);
#else
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%10, %11, %12, %13};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]),
          "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
#endif
}

/*
 * ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16: four 8x8 matrices of 16-bit values from shared memory into
 * mma operand registers, one instruction for what would be 8 (or, transposed, 16) shared loads. Lane l passes
 * the address of row l % 8 of matrix l / 8 (8 consecutive b16, 16-byte aligned). With g = lane / 4, t = lane % 4,
 * register i gets of matrix i: plain, (row g, cols 2t, 2t+1); .trans, (rows 2t, 2t+1, col g); the lower
 * index in the low 16 bits. So from a row-major [key][dim] tile the plain form yields B fragments of K
 * (B(k = dim, n = key)) and the .trans form B fragments of V (B(k = key, n = dim)). All 32 lanes call it
 * together; the emulation (emu.h, emu_ldmatrix_x4) spells the layout out.
 */
__device__ __forceinline__ void ls_ldmatrix_x4(unsigned (&r)[4], const void* row) {
#ifdef LS_EMULATION
    emu_ldmatrix_x4(r, row, false);
#else
    const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(row));
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
#endif
}

__device__ __forceinline__ void ls_ldmatrix_x4_trans(unsigned (&r)[4], const void* row) {
#ifdef LS_EMULATION
    emu_ldmatrix_x4(r, row, true);
#else
    const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(row));
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
#endif
}

#endif /* LS_COMMON_CUH */

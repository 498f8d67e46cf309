/*
 * Device-side fills: random weights made in place (benchmarks at full model size need ~31 GB of them,
 * which must not cross PCIe or exist on the host).
 */
#include "include/ls_common.cuh"

/* lowbias32 of seed mixed with the index; unsigned arithmetic wraps exactly as Java's int does. */
__device__ __forceinline__ unsigned int ls_hash_mix(unsigned int seed, unsigned int index) {
    unsigned int h = seed ^ (index * 0x9E3779B1u);
    h ^= h >> 16;
    h *= 0x7FEB352Du;
    h ^= h >> 15;
    h *= 0x846CA68Bu;
    h ^= h >> 16;
    return h;
}

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_fill_hashed(const LsFillHashedParams p) {
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.count; i += stride) {
        const unsigned int index = static_cast<unsigned int>(p.indexBase) + static_cast<unsigned int>(i);
        const unsigned int h = ls_hash_mix(static_cast<unsigned int>(p.seed), index);
        const float u = static_cast<float>(h >> 8) * 5.9604644775390625e-8f;   /* 2^-24, exact */
        const float centred = 2.0f * u - 1.0f;                                  /* exact */
        const float v = __fadd_rn(p.mean, __fmul_rn(p.amplitude, centred));     /* two roundings, as Java */
        if (p.dtype == LS_DTYPE_BF16) {
            reinterpret_cast<unsigned short*>(p.dst)[i] = static_cast<unsigned short>(__float_as_uint(v) >> 16);
        } else {
            reinterpret_cast<float*>(p.dst)[i] = v;
        }
    }
}

/*
 * Dense products of decode batches (a few activation rows against a bf16 weight): bound by reading the
 * weight once, so one warp streams one weight row with 16-byte loads and applies it to every activation row.
 */
#include "include/ls_common.cuh"

extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_gemv(const LsGemvParams p) {
    const int lane = threadIdx.x & 31;
    const int n = blockIdx.x * LS_GEMV_FEATURES + (threadIdx.x >> 5);
    if (n >= p.n) {
        return;
    }
    const unsigned short* w = reinterpret_cast<const unsigned short*>(p.w) + static_cast<long long>(n) * p.k;
    const float* x = reinterpret_cast<const float*>(p.x);
    float acc[LS_GEMV_MAX_ROWS];
#pragma unroll
    for (int t = 0; t < LS_GEMV_MAX_ROWS; t++) {
        acc[t] = 0.0f;
    }
    if ((p.k & 7) == 0) {
        for (int k = lane * 8; k < p.k; k += 32 * 8) {
            float v[8];
            ls_bf16x8(*reinterpret_cast<const uint4*>(w + k), v);
#pragma unroll
            for (int t = 0; t < LS_GEMV_MAX_ROWS; t++) {
                if (t < p.rows) {
                    const float* xt = x + static_cast<long long>(t) * p.xStride + k;
#pragma unroll
                    for (int j = 0; j < 8; j++) {
                        acc[t] = fmaf(v[j], xt[j], acc[t]);
                    }
                }
            }
        }
    } else {
        for (int k = lane; k < p.k; k += 32) {
            const float v = ls_bf16_to_float(w[k]);
#pragma unroll
            for (int t = 0; t < LS_GEMV_MAX_ROWS; t++) {
                if (t < p.rows) {
                    acc[t] = fmaf(v, x[static_cast<long long>(t) * p.xStride + k], acc[t]);
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < LS_GEMV_MAX_ROWS; t++) {
        if (t < p.rows) {
            const float sum = ls_warp_sum(acc[t]);
            if (lane == 0) {
                reinterpret_cast<float*>(p.out)[static_cast<long long>(t) * p.outStride + n] = sum;
            }
        }
    }
}

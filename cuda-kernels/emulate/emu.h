/*
 * A CPU emulation of the little CUDA the LatentServe kernels use, to check their logic on a machine
 * without a GPU: every thread of a block is an OS thread, __syncthreads a barrier, warp shuffles an
 * exchange through memory with a warp barrier, blocks run one after another (so `static` stands in for
 * __shared__). Not fast and not a memory model: a logic check, run by emulate/run.sh.
 */
#pragma once
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct emu_dim3 { unsigned x = 1, y = 1, z = 1; };
inline thread_local emu_dim3 threadIdx, blockIdx;
inline emu_dim3 blockDim, gridDim;

struct emu_block_state {
    std::unique_ptr<std::barrier<>> block;
    std::vector<std::unique_ptr<std::barrier<>>> warps;
    std::vector<unsigned long long> exchange;   // one slot per thread
    std::vector<unsigned char> dynamic_smem;
};
inline emu_block_state emu_state;

template <typename T> inline T* emu_dynamic_smem() { return reinterpret_cast<T*>(emu_state.dynamic_smem.data()); }

inline void __syncthreads() { emu_state.block->arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu_state.warps[threadIdx.x / 32]->arrive_and_wait(); }

template <typename T> inline T __shfl_xor_sync(unsigned, T v, int offset) {
    static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
    unsigned t = threadIdx.x;
    unsigned long long bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    emu_state.exchange[t] = bits;
    __syncwarp();
    unsigned long long other = emu_state.exchange[(t & ~31u) | ((t & 31u) ^ (unsigned) offset)];
    __syncwarp();
    T out;
    std::memcpy(&out, &other, sizeof(T));
    return out;
}

inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned) x); }
using std::fmaf; using std::fmaxf; using std::exp; using std::sqrt;

/** Runs kernel(params) over the grid, one block at a time, blockDim.x threads per block. */
template <typename P>
void emu_launch(void (*kernel)(const P), unsigned gx, unsigned gy, unsigned threads, size_t smem, const P& params) {
    blockDim = {threads, 1, 1};
    gridDim = {gx, gy, 1};
    for (unsigned by = 0; by < gy; by++) {
        for (unsigned bx = 0; bx < gx; bx++) {
            emu_state.block = std::make_unique<std::barrier<>>(threads);
            emu_state.warps.clear();
            for (unsigned w = 0; w < threads / 32; w++) emu_state.warps.push_back(std::make_unique<std::barrier<>>(32));
            emu_state.exchange.assign(threads, 0);
            emu_state.dynamic_smem.assign(smem + 16, 0xAB);
            std::vector<std::thread> pool;
            for (unsigned t = 0; t < threads; t++) {
                pool.emplace_back([&, t] {
                    threadIdx = {t, 0, 0};
                    blockIdx = {bx, by, 0};
                    kernel(params);
                });
            }
            for (auto& th : pool) th.join();
        }
    }
}

/*
 * A CPU emulation of the little CUDA the LatentServe kernels use, to check their logic on a machine without
 * a GPU. Every CUDA thread of a block is a fiber (ucontext) on the calling OS thread: a fiber runs until it
 * finishes or reaches __syncthreads / a warp barrier, and the scheduler releases a barrier once every live
 * thread of the block (or all 32 of the warp) is waiting at it. Warp shuffles exchange through memory
 * between two warp barriers. Blocks run one after another, so `static` stands in for __shared__. A logic
 * check (indexing, reductions, control flow), not a memory model and not fast.
 */
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ucontext.h>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct emu_dim3 { unsigned x = 1, y = 1, z = 1; };
/* CUDA's 16-byte vector types (the kernels' vectorized loads) */
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(16) float4 { float x, y, z, w; };
inline emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

enum emu_state_t { EMU_READY, EMU_BLOCK_WAIT, EMU_WARP_WAIT, EMU_DONE };

struct emu_fiber {
    ucontext_t ctx;
    std::vector<char> stack;
    emu_state_t state = EMU_READY;
};

struct emu_block {
    std::vector<emu_fiber> fibers;
    ucontext_t scheduler;
    unsigned current = 0;
    std::vector<unsigned long long> exchange;
    std::vector<unsigned char> dynamic_smem;
    void (*body)(const void*) = nullptr;
    const void* params = nullptr;
};
inline emu_block emu;

template <typename T> inline T* emu_dynamic_smem() { return reinterpret_cast<T*>(emu.dynamic_smem.data()); }

inline void emu_wait(emu_state_t why) {
    emu_fiber& f = emu.fibers[emu.current];
    f.state = why;
    swapcontext(&f.ctx, &emu.scheduler);
}

inline void __syncthreads() { emu_wait(EMU_BLOCK_WAIT); }

/* cp.async (<cuda_pipeline_primitives.h>) as a plain synchronous copy: the copy has landed when the call
 * returns, so commit and wait have nothing to do. Checks which buffer a pipelined kernel fills and reads
 * (a buffer refilled while a warp still reads it shows as wrong results), not the asynchrony itself. */
inline void __pipeline_memcpy_async(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }
inline void __pipeline_commit() {}
inline void __pipeline_wait_prior(size_t) {}
inline void __syncwarp(unsigned = 0xffffffffu) { emu_wait(EMU_WARP_WAIT); }

template <typename T> inline T __shfl_xor_sync(unsigned, T v, int offset) {
    static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
    unsigned t = threadIdx.x;
    unsigned long long bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    emu.exchange[t] = bits;
    __syncwarp();
    unsigned long long other = emu.exchange[(t & ~31u) | ((t & 31u) ^ (unsigned) offset)];
    __syncwarp();
    T out;
    std::memcpy(&out, &other, sizeof(T));
    return out;
}

inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
/* Round-to-nearest f32 add and multiply, never contracted into an FMA (the emulation builds with -ffp-contract=off). */
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned) x); }
using std::fmaf; using std::fmaxf; using std::exp; using std::sqrt;
inline int min(int a, int b) { return a < b ? a : b; }

inline void emu_trampoline() {
    emu.body(emu.params);
    emu.fibers[emu.current].state = EMU_DONE;
    // returning switches to uc_link (the scheduler)
}

/** Runs body(params) over the grid, one block at a time, `threads` fibers per block. */
inline void emu_run(void (*body)(const void*), const void* params, unsigned gx, unsigned gy, unsigned threads,
                    size_t smem) {
    const size_t stackBytes = 64 * 1024;
    blockDim = {threads, 1, 1};
    gridDim = {gx, gy, 1};
    emu.body = body;
    emu.params = params;
    if (emu.fibers.size() < threads) {
        emu.fibers.resize(threads);
    }
    for (unsigned t = 0; t < threads; t++) {
        if (emu.fibers[t].stack.size() < stackBytes) emu.fibers[t].stack.resize(stackBytes);
    }
    emu.exchange.assign(threads, 0);
    for (unsigned by = 0; by < gy; by++) {
        for (unsigned bx = 0; bx < gx; bx++) {
            blockIdx = {bx, by, 0};
            emu.dynamic_smem.assign(smem + 16, 0xAB);
            for (unsigned t = 0; t < threads; t++) {
                emu_fiber& f = emu.fibers[t];
                getcontext(&f.ctx);
                f.ctx.uc_stack.ss_sp = f.stack.data();
                f.ctx.uc_stack.ss_size = f.stack.size();
                f.ctx.uc_link = &emu.scheduler;
                makecontext(&f.ctx, emu_trampoline, 0);
                f.state = EMU_READY;
            }
            unsigned live = threads;
            while (live > 0) {
                bool progressed = false;
                for (unsigned t = 0; t < threads; t++) {
                    if (emu.fibers[t].state != EMU_READY) continue;
                    emu.current = t;
                    threadIdx = {t, 0, 0};
                    swapcontext(&emu.scheduler, &emu.fibers[t].ctx);
                    progressed = true;
                    if (emu.fibers[t].state == EMU_DONE) live--;
                }
                // release warps whose 32 threads all wait at a warp barrier
                for (unsigned w = 0; w < threads / 32; w++) {
                    bool all = true;
                    for (unsigned l = 0; l < 32; l++) all = all && emu.fibers[w * 32 + l].state == EMU_WARP_WAIT;
                    if (all) {
                        for (unsigned l = 0; l < 32; l++) emu.fibers[w * 32 + l].state = EMU_READY;
                        progressed = true;
                    }
                }
                // release the block barrier once every live thread waits at it
                bool allBlock = live > 0;
                for (unsigned t = 0; t < threads; t++) {
                    if (emu.fibers[t].state != EMU_DONE && emu.fibers[t].state != EMU_BLOCK_WAIT) allBlock = false;
                }
                if (allBlock) {
                    for (unsigned t = 0; t < threads; t++) {
                        if (emu.fibers[t].state == EMU_BLOCK_WAIT) emu.fibers[t].state = EMU_READY;
                    }
                    progressed = true;
                }
                if (!progressed && live > 0) {
                    std::fprintf(stderr, "emu: deadlock in block (%u, %u)\n", bx, by);
                    std::abort();
                }
            }
        }
    }
}

template <typename P> void emu_launch(void (*kernel)(const P), unsigned gx, unsigned gy, unsigned threads, size_t smem,
                                      const P& params) {
    static void (*k)(const P);
    k = kernel;
    emu_run([](const void* p) { k(*static_cast<const P*>(p)); }, &params, gx, gy, threads, smem);
}

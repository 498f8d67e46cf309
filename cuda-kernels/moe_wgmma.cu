/*
 * Hopper warpgroup forms of the MoE expert products (ls_moe_gate_up_wgmma, ls_moe_down_wgmma): the same inputs,
 * outputs, down strides and sorted layout (ls_moe_sort, shared experts folded in) as ls_moe_gate_up /
 * ls_moe_down (moe.cu) and their mma.sync forms (moe_tc.cu), for prefill-sized batches where each expert has
 * hundreds of rows: a block is one warpgroup and computes a 64-row x 128-column tile with wgmma m64n128k16
 * (ls_hopper.cuh), both operands in shared memory, so every weight value staged once serves 64 rows (the mma.sync
 * kernels serve at most 32 from registers) and the 128 threads issue one instruction per 64x128x16 product.
 *
 * Tile of a block: blockIdx.x numbers the m-tiles of all experts, expert after expert (ceil(rows / 64) each;
 * found by the block from offsets, no host round trip), blockIdx.y the output features: gate/up take 64 features
 * of gate and the same 64 of up as one B tile of 128 rows (columns 0-63 gate, 64-127 up, so SiLU(gate)·up is
 * local to each thread's accumulators: column c and c + 64 are registers 4j + i and 4(j + 8) + i of one
 * thread); down takes 128 features of its output.
 *
 * K loop in stages of LS_MOE_WG_KC input values through a ring of LS_MOE_WG_STAGES shared buffers, each holding
 * A hi, A lo (64 x KC bf16) and B (128 x KC bf16) in the no-swizzle K-major layout of ls_hopper.cuh with the
 * 8-row groups adjacent (SBO 128) and the k groups one tile column apart (LBO = rows / 8 x 128): a 16-byte row of
 * a core matrix per thread, 8 consecutive threads on 8 consecutive rows, so the stores are free of bank
 * conflicts. B arrives by cp.async two stages ahead; A is gathered by the block itself (f32 rows of x through
 * rowToken, or h) into registers one stage ahead and rounded into bf16 hi (+ lo = bf16(x - hi) when aTerms is 2:
 * two wgmma against the same B accumulate hi·W + lo·W, about 16 significant bits of each activation).
 * A last stage of 16 values (K = 16 mod 32) is padded with zeros in A and B (no branch among the wgmma).
 * Per stage c: wait_group 1 retires the wgmma of stage c-2; A of c is stored, A of c+1 loaded; cp.async of c
 * waited; fence.proxy.async (ordinary stores -> the async proxy wgmma reads through); one barrier; cp.async of
 * B for c+2 into the buffer stage c-2 used; wgmma of c, committed. Deterministic, no atomics: each output
 * element is written by one thread.
 *
 * Not yet done (a first version, unmeasured): TMA and 128-byte swizzle, a producer warpgroup feeding one or two
 * consumer warpgroups (setmaxnreg), a persistent grid; the activations are re-gathered for every feature tile.
 */
#include "include/ls_common.cuh"
#include "include/ls_hopper.cuh"
#ifdef __CUDACC__
#include <cuda_pipeline_primitives.h> /* cp.async (emu.h has synchronous stand-ins) */
#endif

#define LS_MOE_WG_N 128                                             /* the wgmma's N: B rows of a tile */
#define LS_MOE_WG_A_BYTES (LS_MOE_WG_ROWS * LS_MOE_WG_KC * 2)       /* one bf16 A term of a stage: 4 KiB */
#define LS_MOE_WG_B_BYTES (LS_MOE_WG_N * LS_MOE_WG_KC * 2)          /* B of a stage: 8 KiB */
#define LS_MOE_WG_STAGE_BYTES (2 * LS_MOE_WG_A_BYTES + LS_MOE_WG_B_BYTES)
/* canonical-layout strides (bytes): 8-row groups adjacent, k groups of 8 values one tile column apart */
#define LS_MOE_WG_SBO 128
#define LS_MOE_WG_A_LBO (LS_MOE_WG_ROWS / 8 * 128)
#define LS_MOE_WG_B_LBO (LS_MOE_WG_N / 8 * 128)

static_assert(LS_MOE_WG_THREADS == 128 && LS_MOE_WG_ROWS == 64, "one warpgroup, the wgmma's M of 64");
static_assert(LS_MOE_WG_STAGES * LS_MOE_WG_STAGE_BYTES == LS_MOE_WG_SMEM, "the launch's dynamic shared memory");
static_assert(LS_MOE_WG_KC == 32 && LS_MOE_WG_STAGES == 4, "A: a half stage of 16 values per thread; B: 2 ahead");
static_assert(2 * LS_MOE_WG_GATE_UP_FEATURES == LS_MOE_WG_N && LS_MOE_WG_DOWN_FEATURES == LS_MOE_WG_N, "N of 128");

#if LS_HAS_WGMMA /* the helpers exist for the sm_90a code (and the emulation) only */

/* byte offset of element (row, k) of a tile of `rows` rows in the layout above */
__device__ __forceinline__ int ls_moe_wg_at(int row, int k, int rows) {
    return (row % 8) * 16 + (row / 8) * LS_MOE_WG_SBO + (k / 8) * (rows / 8 * 128) + (k % 8) * 2;
}

/*
 * The m-tile of this block: experts' tiles numbered expert after expert. Each thread counts the tiles of a
 * contiguous range of experts, the block adds the counts before it, and the thread whose range holds tile
 * blockIdx.x names it. Returns false (the whole block) when blockIdx.x is past the last tile.
 */
__device__ __forceinline__ bool ls_moe_wg_find_tile(const int* offsets, int numExperts, int& expert, int& tile) {
    __shared__ int partial[LS_MOE_WG_THREADS];
    __shared__ int found[2];
    const int t = threadIdx.x;
    const int per = (numExperts + LS_MOE_WG_THREADS - 1) / LS_MOE_WG_THREADS;
    const int e0 = min(t * per, numExperts);
    const int e1 = min(e0 + per, numExperts);
    int mine = 0;
    for (int e = e0; e < e1; e++) {
        mine += (offsets[e + 1] - offsets[e] + LS_MOE_WG_ROWS - 1) / LS_MOE_WG_ROWS;
    }
    partial[t] = mine;
    if (t == 0) {
        found[0] = -1;
    }
    __syncthreads();
    int before = 0;
    for (int i = 0; i < t; i++) {
        before += partial[i];
    }
    const int b = static_cast<int>(blockIdx.x);
    if (b >= before && b < before + mine) {
        int at = before;
        for (int e = e0; e < e1; e++) {
            const int tiles = (offsets[e + 1] - offsets[e] + LS_MOE_WG_ROWS - 1) / LS_MOE_WG_ROWS;
            if (b < at + tiles) {
                found[0] = e;
                found[1] = b - at;
                break;
            }
            at += tiles;
        }
    }
    __syncthreads();
    expert = found[0];
    tile = found[1];
    return expert >= 0;
}

/*
 * One block tile: rows [first, first + cnt) (cnt <= 64; input row of row r: inIndex[r], or r) times the 128 B rows
 * wrow[n] (bf16, K values each), K a multiple of 16; acc gets the 64 x 128 product in the fragment of
 * ls_hopper.cuh. Rows past cnt repeat the last row (their outputs are dropped), as B rows past the output width
 * repeat the last feature: every loaded value is a real one.
 */
template <int TERMS>
__device__ __forceinline__ void ls_moe_wg_product(unsigned char* smem, const float* in, int inStride, const int* inIndex,
                                                  int first, int cnt, int K, const unsigned short* wrow,
                                                  float (&acc)[64]) {
    const int t = threadIdx.x;
    /* A: thread t owns row t % 64, values 16 (t / 64) .. + 15 of each stage */
    const int am = t % LS_MOE_WG_ROWS;
    const int ak = 16 * (t / LS_MOE_WG_ROWS);
    const long long src = inIndex != nullptr ? inIndex[first + min(am, cnt - 1)] : first + min(am, cnt - 1);
    const float* arow = in + src * inStride;
    const bool vec = (inStride % 4) == 0 && (reinterpret_cast<unsigned long long>(in) % 16) == 0;
    const int chunks = (K + LS_MOE_WG_KC - 1) / LS_MOE_WG_KC;
    float a[16];

    auto loadA = [&](int c) {
        const int k = c * LS_MOE_WG_KC + ak;
        if (c >= chunks) {
            return;
        }
        if (k >= K) { /* past K (a last stage of 16 values): zeros, against zeros in B */
#pragma unroll
            for (int i = 0; i < 16; i++) {
                a[i] = 0.0f;
            }
            return;
        }
        if (vec) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                const float4 v = *reinterpret_cast<const float4*>(arow + k + 4 * i);
                a[4 * i] = v.x;
                a[4 * i + 1] = v.y;
                a[4 * i + 2] = v.z;
                a[4 * i + 3] = v.w;
            }
        } else {
#pragma unroll
            for (int i = 0; i < 16; i++) {
                a[i] = arow[k + i];
            }
        }
    };
    auto storeA = [&](int c) {
        unsigned char* stage = smem + (c % LS_MOE_WG_STAGES) * LS_MOE_WG_STAGE_BYTES;
#pragma unroll
        for (int half = 0; half < 2; half++) {
            unsigned hi[4];
            unsigned lo[4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                const float x0 = a[8 * half + 2 * i];
                const float x1 = a[8 * half + 2 * i + 1];
                const unsigned short h0 = ls_to_bf16(x0);
                const unsigned short h1 = ls_to_bf16(x1);
                hi[i] = static_cast<unsigned>(h0) | (static_cast<unsigned>(h1) << 16);
                /* x - bf16(x) is exact in f32; its bf16 rounding leaves about 2^-17 of x */
                lo[i] = ls_pack_bf16x2(x0 - ls_bf16_to_float(h0), x1 - ls_bf16_to_float(h1));
            }
            const int at = ls_moe_wg_at(am, ak + 8 * half, LS_MOE_WG_ROWS);
            *reinterpret_cast<uint4*>(stage + at) = make_uint4(hi[0], hi[1], hi[2], hi[3]);
            if (TERMS == 2) {
                *reinterpret_cast<uint4*>(stage + LS_MOE_WG_A_BYTES + at) = make_uint4(lo[0], lo[1], lo[2], lo[3]);
            }
        }
    };
    /* B: thread t owns B row t, the 16-byte groups of each stage that lie inside K */
    auto issueB = [&](int c) {
        if (c < chunks) {
            unsigned char* stageB = smem + (c % LS_MOE_WG_STAGES) * LS_MOE_WG_STAGE_BYTES + 2 * LS_MOE_WG_A_BYTES;
            const int k0 = c * LS_MOE_WG_KC;
#pragma unroll
            for (int g = 0; g < LS_MOE_WG_KC / 8; g++) {
                unsigned char* dst = stageB + ls_moe_wg_at(t, 8 * g, LS_MOE_WG_N);
                if (k0 + 8 * g < K) {
                    __pipeline_memcpy_async(dst, wrow + k0 + 8 * g, 16);
                } else { /* past K: zeros (finite, so 0 x B adds nothing), fenced like the A stores */
                    *reinterpret_cast<uint4*>(dst) = make_uint4(0u, 0u, 0u, 0u);
                }
            }
        }
        __pipeline_commit(); /* one group per stage, empty past K: the wait below counts stages */
    };

#pragma unroll
    for (int i = 0; i < 64; i++) {
        acc[i] = 0.0f;
    }
    issueB(0);
    issueB(1);
    loadA(0);
    for (int c = 0; c < chunks; c++) {
        ls_wgmma_wait<1>(); /* the wgmma of stage c-2 is done: its buffer is refilled below, after the barrier */
        storeA(c);
        loadA(c + 1);       /* in flight across this stage's wgmma */
        __pipeline_wait_prior(1);
        ls_fence_proxy_async_shared();
        __syncthreads();
        issueB(c + 2);
        const unsigned char* stage = smem + (c % LS_MOE_WG_STAGES) * LS_MOE_WG_STAGE_BYTES;
        ls_wgmma_fence();
        /* unrolled, TERMS a constant and no branch among the wgmma (a last stage of 16 values is padded with
         * zeros): otherwise ptxas injects warpgroup.arrive between them (info C7519) */
#pragma unroll
        for (int s = 0; s < LS_MOE_WG_KC / 16; s++) {
            /* k values 16s .. 16s+15: the k groups 2s and 2s + 1, LBO apart */
            const unsigned long long db = ls_wgmma_desc(stage + 2 * LS_MOE_WG_A_BYTES + 2 * s * LS_MOE_WG_B_LBO,
                                                        LS_MOE_WG_B_LBO, LS_MOE_WG_SBO);
            const unsigned long long dhi = ls_wgmma_desc(stage + 2 * s * LS_MOE_WG_A_LBO, LS_MOE_WG_A_LBO, LS_MOE_WG_SBO);
            ls_wgmma_m64n128k16_bf16(acc, dhi, db, 1);
            if (TERMS == 2) {
                const unsigned long long dlo = ls_wgmma_desc(stage + LS_MOE_WG_A_BYTES + 2 * s * LS_MOE_WG_A_LBO,
                                                             LS_MOE_WG_A_LBO, LS_MOE_WG_SBO);
                ls_wgmma_m64n128k16_bf16(acc, dlo, db, 1);
            }
        }
        ls_wgmma_commit();
    }
    ls_wgmma_wait<0>();
    __pipeline_wait_prior(0); /* the empty groups past K: nothing in flight when the block ends */
}

#endif /* LS_HAS_WGMMA */

extern "C" __global__ void __launch_bounds__(LS_MOE_WG_THREADS, 3) ls_moe_gate_up_wgmma(const LsMoeGateUpWgmmaParams p) {
#if LS_HAS_WGMMA
    extern __shared__ __align__(16) float smem[]; /* LS_MOE_WG_STAGES x (A hi, A lo, B) */
    const int* offsets = reinterpret_cast<const int*>(p.offsets);
    int e;
    int tile;
    if (!ls_moe_wg_find_tile(offsets, p.numExperts, e, tile)) {
        return; /* past the last m-tile of this call */
    }
    const int first = offsets[e] + tile * LS_MOE_WG_ROWS;
    const int cnt = min(LS_MOE_WG_ROWS, offsets[e + 1] - first);
    const int f0 = blockIdx.y * LS_MOE_WG_GATE_UP_FEATURES;
    /* B row n: gate feature f0 + n (n < 64), up feature f0 + n - 64; past inter, the last feature */
    const int n = threadIdx.x;
    const int f = min(f0 + n % LS_MOE_WG_GATE_UP_FEATURES, p.inter - 1);
    const auto* table = reinterpret_cast<const ls_ptr*>(n < LS_MOE_WG_GATE_UP_FEATURES ? p.gateTable : p.upTable);
    const auto* wrow = reinterpret_cast<const unsigned short*>(table[e]) + static_cast<long long>(f) * p.hidden;
    float acc[64];
    if (p.aTerms == 2) {
        ls_moe_wg_product<2>(reinterpret_cast<unsigned char*>(smem), reinterpret_cast<const float*>(p.x), p.xStride,
                             reinterpret_cast<const int*>(p.rowToken), first, cnt, p.hidden, wrow, acc);
    } else {
        ls_moe_wg_product<1>(reinterpret_cast<unsigned char*>(smem), reinterpret_cast<const float*>(p.x), p.xStride,
                             reinterpret_cast<const int*>(p.rowToken), first, cnt, p.hidden, wrow, acc);
    }
    /* warp w, lane (g, t): rows 16w + g (+8), columns 8j + 2t (+1); gate in j < 8, up of the same feature in j + 8 */
    const int w = threadIdx.x / 32;
    const int g = (threadIdx.x % 32) / 4;
    const int q = threadIdx.x % 4;
    float* h = reinterpret_cast<float*>(p.h);
#pragma unroll
    for (int j = 0; j < 8; j++) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int row = 16 * w + g + 8 * (i / 2);
            const int feature = f0 + 8 * j + 2 * q + i % 2;
            if (row < cnt && feature < p.inter) {
                const float v = acc[4 * j + i];
                const float up = acc[4 * (j + 8) + i];
                /* silu as the CPU backend: z / (1f + (float) StrictMath.exp(-z)) * up */
                h[static_cast<long long>(first + row) * p.hStride + feature] = v / (1.0f + ls_exp_f(-v)) * up;
            }
        }
    }
#elif defined(__CUDA_ARCH__)
    __trap(); /* sm_90a only: launched on compute capability 9.0, where the driver loads the sm_90a code */
#endif
}

extern "C" __global__ void __launch_bounds__(LS_MOE_WG_THREADS, 3) ls_moe_down_wgmma(const LsMoeDownWgmmaParams p) {
#if LS_HAS_WGMMA
    extern __shared__ __align__(16) float smem[];
    const int* offsets = reinterpret_cast<const int*>(p.offsets);
    int e;
    int tile;
    if (!ls_moe_wg_find_tile(offsets, p.numExperts, e, tile)) {
        return;
    }
    const int first = offsets[e] + tile * LS_MOE_WG_ROWS;
    const int cnt = min(LS_MOE_WG_ROWS, offsets[e + 1] - first);
    const int f0 = blockIdx.y * LS_MOE_WG_DOWN_FEATURES;
    const int f = min(f0 + static_cast<int>(threadIdx.x), p.hidden - 1);
    const int stride = reinterpret_cast<const int*>(p.downStrides)[e];
    const auto* wrow = reinterpret_cast<const unsigned short*>(reinterpret_cast<const ls_ptr*>(p.downTable)[e])
                       + static_cast<long long>(f) * stride;
    float acc[64];
    if (p.aTerms == 2) {
        ls_moe_wg_product<2>(reinterpret_cast<unsigned char*>(smem), reinterpret_cast<const float*>(p.h), p.hStride,
                             nullptr, first, cnt, p.inter, wrow, acc);
    } else {
        ls_moe_wg_product<1>(reinterpret_cast<unsigned char*>(smem), reinterpret_cast<const float*>(p.h), p.hStride,
                             nullptr, first, cnt, p.inter, wrow, acc);
    }
    const int w = threadIdx.x / 32;
    const int g = (threadIdx.x % 32) / 4;
    const int q = threadIdx.x % 4;
    float* y = reinterpret_cast<float*>(p.y);
#pragma unroll
    for (int j = 0; j < 16; j++) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int row = 16 * w + g + 8 * (i / 2);
            const int feature = f0 + 8 * j + 2 * q + i % 2;
            if (row < cnt && feature < p.hidden) {
                y[static_cast<long long>(first + row) * p.yStride + feature] = acc[4 * j + i];
            }
        }
    }
#elif defined(__CUDA_ARCH__)
    __trap();
#endif
}

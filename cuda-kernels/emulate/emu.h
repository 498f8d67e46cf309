/*
 * A CPU emulation of the little CUDA the LatentServe kernels use, to check their logic on a machine without
 * a GPU. Every CUDA thread of a block is a fiber (ucontext) on the calling OS thread: a fiber runs until it
 * finishes or reaches __syncthreads / a warp barrier, and the scheduler releases a barrier once every live
 * thread of the block (or all 32 of the warp) is waiting at it. Warp shuffles exchange through memory
 * between two warp barriers. Blocks run one after another, so `static` stands in for __shared__. A logic
 * check (indexing, reductions, control flow), not a memory model and not fast.
 */
#pragma once
/* Kernels test this to swap inline PTX (tensor-core mma) for the emulation's collective below. */
#define LS_EMULATION 1
#include <algorithm>
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
#define __maxnreg__(...)
#define __shared__ static

struct emu_dim3 { unsigned x = 1, y = 1, z = 1; };
/* CUDA's 16-byte vector types (the kernels' vectorized loads) */
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) float2 { float x, y; };
struct alignas(8) uint2 { unsigned x, y; };
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
inline emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

enum emu_state_t { EMU_READY, EMU_BLOCK_WAIT, EMU_WARP_WAIT, EMU_WARPGROUP_WAIT, EMU_MBARRIER_WAIT, EMU_DONE };

struct emu_fiber {
    ucontext_t ctx;
    std::vector<char> stack;
    emu_state_t state = EMU_READY;
    /* EMU_MBARRIER_WAIT: the mbarrier and the parity of the phase this fiber waits for */
    const unsigned long long* waitBar = nullptr;
    unsigned waitParity = 0;
};

struct emu_block {
    std::vector<emu_fiber> fibers;
    ucontext_t scheduler;
    unsigned current = 0;
    std::vector<unsigned long long> exchange;
    /* per thread, two slots of a[4], b[2], c[4] of an ls_mma_bf16_16816 used in turn (mma_turn): a lane writing
     * the next product's slot cannot overwrite what a slower lane still reads of this one, so one warp meeting
     * per product is enough (the meetings are what the emulation's time goes into) */
    std::vector<unsigned> mma_exchange;
    std::vector<unsigned char> mma_turn;
    std::vector<unsigned char> dynamic_smem;
    /* wgmma: per thread, two slots (used in turn, as mma_exchange) of {descA, descB, scaleD} published at the
     * warpgroup meeting, and the products issued but not yet waited for, by commit group */
    struct wgmma_op { float* d; int n; unsigned long long descA, descB; int scaleD; };
    std::vector<unsigned long long> wgmma_exchange;
    std::vector<unsigned char> wgmma_turn;
    std::vector<std::vector<std::vector<wgmma_op>>> wgmma_groups; /* [thread][group][op], last group open */
    /* cp.async.bulk issued and not yet landed: the barrier it completes on, where it goes, the source bytes */
    struct bulk_copy { unsigned long long* bar; unsigned char* dst; std::vector<unsigned char> bytes; };
    std::vector<bulk_copy> bulk_in_flight;
    /* cp.async (non-bulk) issued and not yet landed, per thread by commit group (last group open) */
    struct cp_async_copy { unsigned char* dst; std::vector<unsigned char> bytes; };
    std::vector<std::vector<std::vector<cp_async_copy>>> cp_groups;
    /* Proxy tracking (PTX ISA, memory consistency model, "proxies"): per 16 bytes of the dynamic shared memory,
     * thread + 1 of a cp.async write that landed there and that thread has not yet followed with
     * fence.proxy.async (0: none); per thread, the chunks it marked. wgmma operands and bulk-copy destinations
     * (async proxy) must not be such chunks. Ordinary stores cannot be seen here and are not tracked. */
    std::vector<unsigned short> generic_owner;
    std::vector<std::vector<unsigned>> generic_marked;
    /* per thread: a wgmma.fence since its last wgmma.wait_group that left no wgmma pending (or its start) */
    std::vector<unsigned char> wgmma_fenced;
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

/*
 * cp.async (<cuda_pipeline_primitives.h>: cp.async.ca/cg, commit_group, wait_group) as the PTX ISA allows it to
 * behave at its extremes: the source is read at issue, the destination holds no defined value from the issue
 * (it is filled with 0xFF, NaN as f32 and bf16) until the issuing thread's cp.async.wait_group retires the copy's
 * group, when the bytes land. So a buffer refilled while another warp still reads it (a missing barrier before the
 * refill) and a tile read before its copies were waited for (a wrong wait_prior count, a missing barrier after
 * the wait) both show as wrong results. Sizes 4, 8 or 16 bytes, both addresses aligned to the size, as the ISA
 * requires (else abort). Copies still pending when their thread ends land then.
 */
inline void emu_cp_async_land(const emu_block::cp_async_copy& c, unsigned thread);
inline void __pipeline_memcpy_async(void* dst, const void* src, size_t bytes) {
    const unsigned t = threadIdx.x;
    if ((bytes != 4 && bytes != 8 && bytes != 16) || reinterpret_cast<uintptr_t>(dst) % bytes != 0
        || reinterpret_cast<uintptr_t>(src) % bytes != 0) {
        std::fprintf(stderr, "emu: cp.async of thread %u: %zu bytes from %p to %p (4, 8 or 16 bytes, both addresses"
                             " aligned to the size)\n", t, bytes, src, dst);
        std::abort();
    }
    const unsigned char* from = static_cast<const unsigned char*>(src);
    auto& groups = emu.cp_groups[t];
    if (groups.empty()) groups.emplace_back();
    groups.back().push_back({static_cast<unsigned char*>(dst), std::vector<unsigned char>(from, from + bytes)});
    std::memset(dst, 0xFF, bytes);
}
inline void __pipeline_commit() {
    auto& groups = emu.cp_groups[threadIdx.x];
    if (groups.empty()) groups.emplace_back();
    groups.emplace_back(); /* the next, open group */
}
/* cp.async.wait_group N: every committed group but the newest N lands now, oldest first (the open one does not). */
inline void __pipeline_wait_prior(size_t pendingAllowed) {
    auto& groups = emu.cp_groups[threadIdx.x];
    const long committed = groups.empty() ? 0 : static_cast<long>(groups.size()) - 1;
    const long retire = committed - static_cast<long>(pendingAllowed);
    for (long i = 0; i < retire; i++) {
        for (const auto& c : groups[i]) emu_cp_async_land(c, threadIdx.x);
    }
    if (retire > 0) groups.erase(groups.begin(), groups.begin() + retire);
}
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

template <typename T> inline T __shfl_up_sync(unsigned, T v, int offset) {
    static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
    unsigned t = threadIdx.x;
    unsigned long long bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    emu.exchange[t] = bits;
    __syncwarp();
    /* a lane below offset keeps its own value, as on the GPU */
    unsigned long long other = (t & 31u) >= (unsigned) offset ? emu.exchange[t - (unsigned) offset] : bits;
    __syncwarp();
    T out;
    std::memcpy(&out, &other, sizeof(T));
    return out;
}

/* Fibers switch only at barriers, so a read-modify-write is atomic here. */
inline unsigned atomicAdd(unsigned* p, unsigned v) {
    unsigned old = *p;
    *p = old + v;
    return old;
}

/*
 * mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 as a warp collective: D = A·B + C, A 16x16, B 16x8,
 * C and D 16x8, each lane holding the fragment the PTX ISA assigns it ("Matrix Fragments for mma.m16n8k16
 * with floating point type"): with g = lane / 4 and t = lane % 4,
 *   A: a[0] = (row g, cols 2t, 2t+1), a[1] = (row g+8, same cols), a[2] = (row g, cols 2t+8, 2t+9),
 *      a[3] = (row g+8, cols 2t+8, 2t+9); the lower column in the low 16 bits of each register;
 *   B: b[0] = (rows 2t, 2t+1, col g), b[1] = (rows 2t+8, 2t+9, col g), the lower row in the low 16 bits;
 *   C, D: c[0], c[1] = (row g, cols 2t, 2t+1), c[2], c[3] = (row g+8, cols 2t, 2t+1).
 * Every lane publishes its registers, the warp meets, each lane computes the product and keeps its part of D.
 * bf16 products are exact in f32; the sum runs in k order in f32 (the hardware's order is unspecified, the
 * checks' tolerances allow for it). All 32 lanes must take part: a divergent call deadlocks (and is reported).
 */
inline float emu_bf16_lo(unsigned r) { float f; unsigned u = r << 16; std::memcpy(&f, &u, 4); return f; }
inline float emu_bf16_hi(unsigned r) { float f; unsigned u = r & 0xffff0000u; std::memcpy(&f, &u, 4); return f; }
inline void emu_mma_bf16_16816(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2], const float (&c)[4]);

inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
/* Round-to-nearest f32 add and multiply, never contracted into an FMA (the emulation builds with -ffp-contract=off). */
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
/* f64 round-to-nearest arithmetic and the f64 -> f32 rounding (ls_logit_edits: Java's double stages, bit for bit). */
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline float __double2float_rn(double a) { return static_cast<float>(a); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned) x); }
using std::fmaf; using std::fmaxf; using std::exp; using std::sqrt; using std::isnan;
inline int min(int a, int b) { return a < b ? a : b; }

inline void emu_mma_bf16_16816(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2], const float (&c)[4]) {
    const unsigned t = threadIdx.x;
    const unsigned warp0 = t & ~31u;
    const unsigned slot = emu.mma_turn[t];
    emu.mma_turn[t] = static_cast<unsigned char>(slot ^ 1u);
    unsigned* mine = &emu.mma_exchange[(t * 2u + slot) * 10u];
    for (int i = 0; i < 4; i++) mine[i] = a[i];
    for (int i = 0; i < 2; i++) mine[4 + i] = b[i];
    for (int i = 0; i < 4; i++) std::memcpy(&mine[6 + i], &c[i], 4);
    __syncwarp();
    float A[16][16], B[16][8], C[16][8];
    for (unsigned l = 0; l < 32; l++) {
        const unsigned* r = &emu.mma_exchange[((warp0 + l) * 2u + slot) * 10u];
        const unsigned g = l >> 2, q = l & 3u;
        for (int half = 0; half < 2; half++) {          // a[0..1]: cols 2q, 2q+1; a[2..3]: cols 2q+8, 2q+9
            const unsigned col = 2 * q + 8 * half;
            A[g][col] = emu_bf16_lo(r[2 * half]);      A[g][col + 1] = emu_bf16_hi(r[2 * half]);
            A[g + 8][col] = emu_bf16_lo(r[2 * half + 1]); A[g + 8][col + 1] = emu_bf16_hi(r[2 * half + 1]);
        }
        B[2 * q][g] = emu_bf16_lo(r[4]);     B[2 * q + 1][g] = emu_bf16_hi(r[4]);
        B[2 * q + 8][g] = emu_bf16_lo(r[5]); B[2 * q + 9][g] = emu_bf16_hi(r[5]);
        float cf[4];
        std::memcpy(cf, &r[6], 16);
        C[g][2 * q] = cf[0]; C[g][2 * q + 1] = cf[1]; C[g + 8][2 * q] = cf[2]; C[g + 8][2 * q + 1] = cf[3];
    }
    // no second meeting: a lane's next product writes the other slot, and the one after this slot again only
    // once every lane has met there, i.e. has finished reading this product
    const unsigned g = (t & 31u) >> 2, q = t & 3u;
    const unsigned rows[4] = {g, g, g + 8, g + 8};
    const unsigned cols[4] = {2 * q, 2 * q + 1, 2 * q, 2 * q + 1};
    for (int i = 0; i < 4; i++) {
        float acc = C[rows[i]][cols[i]];
        for (int k = 0; k < 16; k++) acc += A[rows[i]][k] * B[k][cols[i]];
        d[i] = acc;
    }
}

/*
 * ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16 as a warp collective (PTX ISA, "Warp-level matrix load
 * instruction: ldmatrix"): lane 8i + j passes the address of row j of matrix i (8 consecutive 16-bit values,
 * 16-byte aligned); with g = lane / 4, t = lane % 4, register i receives (row g, cols 2t, 2t+1) of matrix i,
 * or with .trans (rows 2t, 2t+1, col g), the lower index in the low 16 bits. A misaligned row aborts.
 */
inline void emu_ldmatrix_x4(unsigned (&r)[4], const void* row, bool trans) {
    const unsigned t = threadIdx.x;
    const unsigned warp0 = t & ~31u;
    if (reinterpret_cast<uintptr_t>(row) % 16 != 0) {
        std::fprintf(stderr, "emu: ldmatrix row address %p of thread %u not 16-byte aligned\n", row, t);
        std::abort();
    }
    emu.exchange[t] = static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(row));
    __syncwarp();
    auto rowOf = [&](unsigned lane) {
        return reinterpret_cast<const unsigned short*>(static_cast<uintptr_t>(emu.exchange[warp0 + lane]));
    };
    const unsigned g = (t & 31u) >> 2, q = t & 3u;
    for (unsigned i = 0; i < 4; i++) {
        unsigned lo, hi;
        if (trans) {
            lo = rowOf(8 * i + 2 * q)[g];
            hi = rowOf(8 * i + 2 * q + 1)[g];
        } else {
            lo = rowOf(8 * i + g)[2 * q];
            hi = rowOf(8 * i + g)[2 * q + 1];
        }
        r[i] = lo | (hi << 16);
    }
    __syncwarp();   // every lane has read the addresses before the exchange is reused
}


/*
 * Shared-memory addresses for wgmma descriptors: the emulation's shared window is the block's dynamic shared
 * memory, an address its byte offset there. Operands elsewhere (static __shared__) abort.
 */
inline size_t __cvta_generic_to_shared(const void* p) {
    const unsigned char* b = emu.dynamic_smem.data();
    const unsigned char* c = static_cast<const unsigned char*>(p);
    if (c < b || c >= b + emu.dynamic_smem.size()) {
        std::fprintf(stderr, "emu: shared address of %p outside the dynamic shared memory\n", p);
        std::abort();
    }
    return static_cast<size_t>(c - b);
}

inline void emu_warpgroup_barrier() { emu_wait(EMU_WARPGROUP_WAIT); }

/* The 16-byte chunks of the dynamic shared memory a range covers, or an empty range when it lies elsewhere. */
inline bool emu_smem_chunks(const void* p, size_t bytes, size_t& first, size_t& end) {
    const unsigned char* b = emu.dynamic_smem.data();
    const unsigned char* c = static_cast<const unsigned char*>(p);
    if (bytes == 0 || c < b || c + bytes > b + emu.dynamic_smem.size()) return false;
    first = static_cast<size_t>(c - b) / 16;
    end = (static_cast<size_t>(c - b) + bytes + 15) / 16;
    return true;
}

/* A cp.async lands: its bytes written (generic proxy), the chunks marked as the thread's until it fences. */
inline void emu_cp_async_land(const emu_block::cp_async_copy& c, unsigned thread) {
    std::memcpy(c.dst, c.bytes.data(), c.bytes.size());
    size_t first, end;
    if (!emu_smem_chunks(c.dst, c.bytes.size(), first, end)) return;
    for (size_t k = first; k < end; k++) {
        emu.generic_owner[k] = static_cast<unsigned short>(thread + 1);
        emu.generic_marked[thread].push_back(static_cast<unsigned>(k));
    }
}

/* fence.proxy.async.shared::cta: this thread's landed generic writes become visible to the async proxy. */
inline void emu_fence_proxy_async() {
    const unsigned t = threadIdx.x;
    for (unsigned k : emu.generic_marked[t]) {
        if (emu.generic_owner[k] == t + 1) emu.generic_owner[k] = 0;
    }
    emu.generic_marked[t].clear();
}

/* An async-proxy access (a wgmma operand read, a bulk copy's write) of shared byte `at`: aborts when a cp.async
 * wrote it and its thread has not fenced since (PTX ISA: generic-proxy writes need fence.proxy.async before the
 * synchronisation that publishes them to the async proxy). */
inline void emu_check_async_proxy(size_t at, const char* what) {
    const unsigned short owner = emu.generic_owner[at / 16];
    if (owner != 0) {
        std::fprintf(stderr, "emu: %s of thread %u reads or writes shared byte %zu, which thread %u wrote by cp.async"
                             " without a fence.proxy.async since (generic-proxy write, async-proxy access)\n",
                     what, threadIdx.x, at, owner - 1u);
        std::abort();
    }
}

/* One bf16 element (mn, k) of a wgmma operand read through its descriptor, as the PTX ISA defines the K-major
 * canonical layouts ("Shared Memory Matrix Layout"; T = 8 16-bit values per 16 bytes):
 *   no swizzle (mode 0), ((8,m),(T,2k)):((1T,SBO),(1,LBO)): byte start + (mn % 8) * 16 + (mn / 8) * SBO
 *     + (k / 8) * LBO + (k % 8) * 2;
 *   128-byte swizzle (mode 1), rows of 128 bytes in 8-row atoms SBO apart, LBO unused: the address
 *     start + (mn % 8) * 128 + (mn / 8) * SBO + k * 2, then its bits 4-6 XOR its bits 7-9 (CuTe Swizzle<3,4,3>:
 *     the 16-byte chunk j of row r at chunk j ^ (r % 8) of a 1024-byte aligned atom).
 * Descriptor fields: bits 0-13 start >> 4, 16-29 LBO >> 4, 32-45 SBO >> 4, 49-51 base offset, 62-63 swizzle;
 * the 64- and 32-byte swizzles and a base offset are not emulated, and any bit outside the fields aborts (a wrong
 * builder). */
inline size_t emu_wgmma_operand_byte(unsigned long long desc, unsigned mn, unsigned k) {
    const unsigned long long fields = 0x3FFFull | (0x3FFFull << 16) | (0x3FFFull << 32) | (3ull << 62);
    const unsigned mode = static_cast<unsigned>(desc >> 62);
    if ((desc & ~fields) != 0 || mode > 1) {
        std::fprintf(stderr, "emu: wgmma descriptor %#llx: bits outside start/LBO/SBO/swizzle, a base offset, or a"
                             " swizzle other than none / 128 bytes\n", desc);
        std::abort();
    }
    const size_t start = (desc & 0x3FFFull) << 4;
    const size_t lbo = ((desc >> 16) & 0x3FFFull) << 4;
    const size_t sbo = ((desc >> 32) & 0x3FFFull) << 4;
    size_t byte;
    if (mode == 0) {
        byte = start + (mn % 8) * 16 + (mn / 8) * sbo + (k / 8) * lbo + (k % 8) * 2;
    } else {
        /* base offset 0 (the only one emulated) means the start lies in row 0 of a 1024-byte aligned atom: a k-slice
         * 32 s bytes past an aligned tile; a tile off that boundary needs the base offset the hardware would use */
        if (((start >> 7) & 7u) != 0) {
            std::fprintf(stderr, "emu: wgmma descriptor %#llx: 128-byte swizzle operand at shared byte %zu, not in row 0"
                                 " of a 1024-byte aligned atom (swizzled tiles must be 1024-byte aligned)\n", desc, start);
            std::abort();
        }
        byte = start + (mn % 8) * 128 + (mn / 8) * sbo + k * 2;
        byte ^= ((byte >> 7) & 7u) << 4;
    }
    if (byte + 2 > emu.dynamic_smem.size()) {
        std::fprintf(stderr, "emu: wgmma operand (%u, %u) at shared byte %zu, past the %zu bytes of the block\n", mn, k,
                     byte, emu.dynamic_smem.size());
        std::abort();
    }
    return byte;
}

inline float emu_wgmma_operand(unsigned long long desc, unsigned mn, unsigned k) {
    const size_t byte = emu_wgmma_operand_byte(desc, mn, k);
    unsigned short v;
    std::memcpy(&v, &emu.dynamic_smem[byte], 2);
    return emu_bf16_lo(v);
}

/* The product of one issued wgmma for the calling thread's fragment (header ls_hopper.cuh): warp w of the
 * warpgroup, g = lane / 4, t = lane % 4, d[4j + i] = row 16w + g + 8 (i / 2), column 8j + 2t + (i % 2).
 * The sum runs in k order in f32 onto D (or 0 when scaleD is 0). */
inline void emu_wgmma_execute(const emu_block::wgmma_op& op, unsigned thread) {
    const unsigned w = (thread % 128u) / 32u, lane = thread % 32u, g = lane / 4u, t = lane % 4u;
    for (int j = 0; j < op.n / 8; j++) {
        for (int i = 0; i < 4; i++) {
            const unsigned row = 16 * w + g + 8 * (i / 2), col = 8 * j + 2 * t + (i % 2);
            float acc = op.scaleD ? op.d[4 * j + i] : 0.0f;
            for (unsigned k = 0; k < 16; k++) acc += emu_wgmma_operand(op.descA, row, k) * emu_wgmma_operand(op.descB, col, k);
            op.d[4 * j + i] = acc;
        }
    }
}

/*
 * wgmma.mma_async m64nNk16 .f32.bf16.bf16, both operands in shared memory, as a warpgroup collective: the 128
 * threads meet (a divergent or partial call deadlocks and is reported), every one must pass the descriptors and
 * scale of thread 0 of the warpgroup (else abort), and the product is only recorded. It runs, reading shared
 * memory and writing the thread's accumulator registers, when a wait_group retires its commit group: so a
 * kernel that overwrites an operand tile or reads its accumulators before waiting gets wrong results here too.
 */
inline void emu_wgmma_bf16(float* d, int n, unsigned long long descA, unsigned long long descB, int scaleD) {
    const unsigned t = threadIdx.x;
    if (blockDim.x % 128u != 0) {
        std::fprintf(stderr, "emu: wgmma in a block of %u threads (not whole warpgroups)\n", blockDim.x);
        std::abort();
    }
    const unsigned slot = emu.wgmma_turn[t];
    emu.wgmma_turn[t] = static_cast<unsigned char>(slot ^ 1u);
    unsigned long long* mine = &emu.wgmma_exchange[(t * 2u + slot) * 3u];
    mine[0] = descA;
    mine[1] = descB;
    mine[2] = static_cast<unsigned long long>(scaleD != 0) | (static_cast<unsigned long long>(n) << 1);
    emu_warpgroup_barrier();
    const unsigned long long* first = &emu.wgmma_exchange[((t & ~127u) * 2u + slot) * 3u];
    if (first[0] != mine[0] || first[1] != mine[1] || first[2] != mine[2]) {
        std::fprintf(stderr, "emu: wgmma of thread %u differs from its warpgroup's thread %u (descriptors, scale, N)\n",
                     t, t & ~127u);
        std::abort();
    }
    if (!emu.wgmma_fenced[t]) {
        std::fprintf(stderr, "emu: wgmma.mma_async of thread %u with no wgmma.fence since its start or its last"
                             " wgmma.wait_group that retired every wgmma (PTX ISA: wgmma.fence before the first"
                             " wgmma.mma_async and between register accesses and a wgmma.mma_async using them)\n", t);
        std::abort();
    }
    if (t % 128u == 0) {   /* the operands, once per warpgroup: no chunk written by cp.async and not fenced */
        for (unsigned k = 0; k < 16; k += 8) {
            for (unsigned mn = 0; mn < 64; mn++) emu_check_async_proxy(emu_wgmma_operand_byte(descA, mn, k), "wgmma A");
            for (unsigned mn = 0; mn < static_cast<unsigned>(n); mn++)
                emu_check_async_proxy(emu_wgmma_operand_byte(descB, mn, k), "wgmma B");
        }
    }
    auto& groups = emu.wgmma_groups[t];
    if (groups.empty()) groups.emplace_back();
    groups.back().push_back({d, n, descA, descB, scaleD});
}

inline void emu_wgmma_fence() { emu.wgmma_fenced[threadIdx.x] = 1; }

inline void emu_wgmma_commit() {
    auto& groups = emu.wgmma_groups[threadIdx.x];
    if (groups.empty()) groups.emplace_back();
    groups.emplace_back(); /* the next, open group */
}

/* wgmma.wait_group N: every committed group but the newest N runs now, oldest first. */
inline void emu_wgmma_wait(int pendingAllowed) {
    auto& groups = emu.wgmma_groups[threadIdx.x];
    const int committed = groups.empty() ? 0 : static_cast<int>(groups.size()) - 1;
    const int retire = committed - pendingAllowed;
    for (int i = 0; i < retire; i++) {
        for (const auto& op : groups[i]) emu_wgmma_execute(op, threadIdx.x);
    }
    if (retire > 0) groups.erase(groups.begin(), groups.begin() + retire);
    bool pending = false;
    for (const auto& g : groups) pending = pending || !g.empty();
    if (!pending) emu.wgmma_fenced[threadIdx.x] = 0;   /* the accumulators are ordinary registers again */
}

/*
 * mbarrier (ls_hopper.cuh) as the PTX ISA describes its state, kept in the barrier's own 8 bytes of shared memory:
 *   bits 0-19 pending arrivals of the current phase, 20-39 expected arrivals per phase (the init count),
 *   40-60 tx-count + 2^20 (the ISA's range -(2^20 - 1) .. 2^20 - 1), 61 the current phase's parity,
 *   62-63 the pattern 01, so a barrier never initialised (the 0xFF fill of fresh shared memory, or zeros) is
 *   caught at first use. A phase completes when its pending arrivals and tx-count are both 0: the parity flips
 *   and the pending count is reset to the expected count.
 * The bulk copy reads its source at issue but lands (writes shared memory, complete_tx) as late as it may: when
 * a thread waits on its barrier and the phase is not complete without it. So a kernel that reads a buffer
 * without waiting for the right phase (a wrong parity, the wrong stage's barrier) reads stale bytes here and
 * fails its check; a block that ends with copies not landed aborts. What it cannot show is a copy issued over
 * a buffer other warps still read (that would need the copy to land early, and warps out of step).
 */
struct emu_mbar_state { unsigned pending, expected; long tx; unsigned parity; };
inline constexpr long EMU_TX_LIMIT = (1L << 20) - 1;

inline size_t emu_mbar_offset(const void* bar, const char* what) {
    const unsigned char* b = emu.dynamic_smem.data();
    const unsigned char* c = static_cast<const unsigned char*>(bar);
    if (c < b || c + 8 > b + emu.dynamic_smem.size() || (c - b) % 8 != 0) {
        std::fprintf(stderr, "emu: %s of thread %u: mbarrier %p not 8 aligned bytes of the dynamic shared memory\n",
                     what, threadIdx.x, bar);
        std::abort();
    }
    return static_cast<size_t>(c - b);
}

inline emu_mbar_state emu_mbar_load(const unsigned long long* bar, const char* what) {
    const size_t off = emu_mbar_offset(bar, what);
    unsigned long long w;
    std::memcpy(&w, bar, 8);
    if ((w >> 62) != 1u) {
        std::fprintf(stderr, "emu: %s of thread %u on the mbarrier at shared byte %zu, never initialised (or overwritten:"
                     " %#llx)\n", what, threadIdx.x, off, w);
        std::abort();
    }
    return {static_cast<unsigned>(w & 0xFFFFFu), static_cast<unsigned>((w >> 20) & 0xFFFFFu),
            static_cast<long>((w >> 40) & 0x1FFFFFu) - (1L << 20), static_cast<unsigned>((w >> 61) & 1u)};
}

inline void emu_mbar_store(unsigned long long* bar, emu_mbar_state s) {
    if (s.pending == 0 && s.tx == 0) {   /* the phase completes */
        s.parity ^= 1u;
        s.pending = s.expected;
    }
    const unsigned long long w = static_cast<unsigned long long>(s.pending)
                                 | (static_cast<unsigned long long>(s.expected) << 20)
                                 | (static_cast<unsigned long long>(s.tx + (1L << 20)) << 40)
                                 | (static_cast<unsigned long long>(s.parity) << 61) | (1ull << 62);
    std::memcpy(bar, &w, 8);
}

inline void emu_mbar_add_tx(unsigned long long* bar, emu_mbar_state& s, long delta, const char* what) {
    s.tx += delta;
    if (s.tx > EMU_TX_LIMIT || s.tx < -EMU_TX_LIMIT) {
        std::fprintf(stderr, "emu: %s of thread %u: tx-count %ld of the mbarrier at shared byte %zu outside +-(2^20 - 1)\n",
                     what, threadIdx.x, s.tx, emu_mbar_offset(bar, what));
        std::abort();
    }
}

inline void emu_mbarrier_init(unsigned long long* bar, unsigned count) {
    emu_mbar_offset(bar, "mbarrier.init");
    if (count < 1 || count > 0xFFFFFu) {
        std::fprintf(stderr, "emu: mbarrier.init of thread %u with count %u (1 .. 2^20 - 1)\n", threadIdx.x, count);
        std::abort();
    }
    emu_mbar_store(bar, {count, count, 0, 0});
}

/* mbarrier.arrive (txBytes 0) or mbarrier.arrive.expect_tx (tx-count += txBytes first, then the arrival). */
inline void emu_mbarrier_arrive(unsigned long long* bar, unsigned txBytes) {
    const char* what = txBytes ? "mbarrier.arrive.expect_tx" : "mbarrier.arrive";
    emu_mbar_state s = emu_mbar_load(bar, what);
    emu_mbar_add_tx(bar, s, txBytes, what);
    if (s.pending == 0) {   /* all arrived, bytes outstanding: another arrival belongs to no phase */
        std::fprintf(stderr, "emu: %s of thread %u on the mbarrier at shared byte %zu: more than its %u arrivals in one"
                     " phase\n", what, threadIdx.x, emu_mbar_offset(bar, what), s.expected);
        std::abort();
    }
    s.pending--;
    emu_mbar_store(bar, s);
}

inline bool emu_mbarrier_test_parity(const unsigned long long* bar, unsigned parity) {
    return emu_mbar_load(bar, "mbarrier.try_wait.parity").parity != (parity & 1u);
}

/* The bulk copies in flight on bar land, in issue order, until the phase of this parity completes (later ones stay
 * in flight: a copy the phase did not announce is not waited for): bytes written, complete_tx counted. A complete_tx
 * that takes the tx-count below 0 once every arrival of the phase is in delivers more bytes than the phase's
 * expect_tx announced (a box counted short, a copy on the wrong barrier): on hardware the phase completes early or
 * the surplus leaks into the next phase; here it aborts. */
inline void emu_bulk_land(const unsigned long long* bar, unsigned parity) {
    auto& v = emu.bulk_in_flight;
    for (size_t i = 0; i < v.size() && !emu_mbarrier_test_parity(bar, parity);) {
        if (v[i].bar != bar) {
            i++;
            continue;
        }
        std::memcpy(v[i].dst, v[i].bytes.data(), v[i].bytes.size());
        size_t first, end;
        if (emu_smem_chunks(v[i].dst, v[i].bytes.size(), first, end)) {
            for (size_t k = first; k < end; k++) emu.generic_owner[k] = 0;   /* async-proxy bytes now */
        }
        emu_mbar_state s = emu_mbar_load(v[i].bar, "cp.async.bulk complete_tx");
        if (s.pending == 0 && s.tx < static_cast<long>(v[i].bytes.size())) {
            std::fprintf(stderr, "emu: cp.async.bulk complete_tx of %zu bytes on the mbarrier at shared byte %zu, whose"
                                 " phase (parity %u, every arrival in) still expects only %ld: more bytes than its"
                                 " expect_tx announced\n", v[i].bytes.size(),
                         emu_mbar_offset(v[i].bar, "complete_tx"), s.parity, s.tx);
            std::abort();
        }
        emu_mbar_add_tx(v[i].bar, s, -static_cast<long>(v[i].bytes.size()), "cp.async.bulk complete_tx");
        emu_mbar_store(v[i].bar, s);
        v.erase(v.begin() + static_cast<long>(i));
    }
}

/* Whether the phase of this parity has completed once the copies in flight on bar have landed (as many as it
 * takes: they must, for a waiter to get on). */
inline bool emu_mbarrier_wait_done(const unsigned long long* bar, unsigned parity) {
    if (emu_mbarrier_test_parity(bar, parity)) return true;
    emu_bulk_land(bar, parity);
    return emu_mbarrier_test_parity(bar, parity);
}

/* A bulk copy is issued over [dst, dst + bytes): no cp.async write there may be unfenced (generic then async
 * proxy), and until it lands the bytes hold nothing defined (0xFF: NaN), so a reader that did not wait for its
 * phase, or a copy issued over a buffer still being read, shows. */
inline void emu_bulk_issue(unsigned char* dst, size_t bytes, const char* what) {
    size_t first, end;
    if (emu_smem_chunks(dst, bytes, first, end)) {
        for (size_t k = first; k < end; k++) emu_check_async_proxy(16 * k, what);
    }
    std::memset(dst, 0xFF, bytes);
}

/* The fiber parks until the phase with this parity has completed; the scheduler wakes it (emu_run). */
inline void emu_mbarrier_wait_parity(const unsigned long long* bar, unsigned parity) {
    while (!emu_mbarrier_wait_done(bar, parity)) {
        emu_fiber& f = emu.fibers[emu.current];
        f.waitBar = bar;
        f.waitParity = parity & 1u;
        emu_wait(EMU_MBARRIER_WAIT);
    }
}

/* cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes: the source read now, landing deferred. */
inline void emu_bulk_copy_g2s(void* dst, const void* src, unsigned bytes, unsigned long long* bar) {
    const unsigned char* b = emu.dynamic_smem.data();
    const unsigned char* d = static_cast<const unsigned char*>(dst);
    if (bytes == 0 || bytes % 16 != 0 || reinterpret_cast<uintptr_t>(dst) % 16 != 0
        || reinterpret_cast<uintptr_t>(src) % 16 != 0) {
        std::fprintf(stderr, "emu: cp.async.bulk of thread %u: %u bytes from %p to %p (sizes and addresses must be"
                     " multiples of 16)\n", threadIdx.x, bytes, src, dst);
        std::abort();
    }
    if (d < b || d + bytes > b + emu.dynamic_smem.size()) {
        std::fprintf(stderr, "emu: cp.async.bulk of thread %u: %u bytes to %p, outside the dynamic shared memory\n",
                     threadIdx.x, bytes, dst);
        std::abort();
    }
    const size_t barOff = emu_mbar_offset(bar, "cp.async.bulk");
    if (barOff + 8 > static_cast<size_t>(d - b) && barOff < static_cast<size_t>(d - b) + bytes) {
        std::fprintf(stderr, "emu: cp.async.bulk of thread %u overwrites its own mbarrier\n", threadIdx.x);
        std::abort();
    }
    emu_mbar_load(bar, "cp.async.bulk");
    const unsigned char* from = static_cast<const unsigned char*>(src);
    emu.bulk_in_flight.push_back({bar, static_cast<unsigned char*>(dst), std::vector<unsigned char>(from, from + bytes)});
    emu_bulk_issue(static_cast<unsigned char*>(dst), bytes, "cp.async.bulk");
}

/*
 * Tensor maps (cuTensorMapEncodeTiled) and the tensor form of the bulk copy (cp.async.bulk.tensor.2d), for the
 * tiles the kernels use: rank 2, 2-byte elements, unit element strides, no interleave, 128-byte swizzle, zero fill
 * past the tensor's edges. The 128-byte opaque map holds this struct (a magic word first, so a kernel handed some
 * other 128 bytes aborts); anything else the encoder refuses, as the driver refuses what it cannot do.
 */
struct emu_tensor_map {
    unsigned magic, dtype, rank, swizzle;
    unsigned long long address, dims[2], rowBytes;
    unsigned box[2];
};
inline constexpr unsigned EMU_TENSOR_MAP_MAGIC = 0x7E45A11Du;
inline constexpr int EMU_TENSOR_MAP_BF16 = 9;      /* CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 */
inline constexpr int EMU_TENSOR_MAP_SWIZZLE_128B = 3;

/* Returns 0 (CUDA_SUCCESS) or 1 (CUDA_ERROR_INVALID_VALUE) with a message, as the driver validates. */
inline int emu_tensor_map_encode(void* map, int dtype, unsigned rank, const void* address,
                                 const unsigned long long* dims, const unsigned long long* strides,
                                 const unsigned* box, const unsigned* elementStrides, int interleave, int swizzle,
                                 int l2Promotion, int oobFill) {
    static_assert(sizeof(emu_tensor_map) <= 128, "the 128-byte CUtensorMap");
    const char* why = nullptr;
    if (reinterpret_cast<uintptr_t>(map) % 64 != 0) why = "map not 64-byte aligned";
    else if (rank != 2 || dtype != EMU_TENSOR_MAP_BF16) why = "only rank 2 bf16 maps are emulated";
    else if (interleave != 0 || swizzle != EMU_TENSOR_MAP_SWIZZLE_128B || oobFill != 0) why = "only 128-byte swizzle,"
        " no interleave, zero fill are emulated";
    else if (l2Promotion < 0 || l2Promotion > 3) why = "L2 promotion";
    else if (reinterpret_cast<uintptr_t>(address) % 16 != 0) why = "global address not 16-byte aligned";
    else if (dims[0] < 1 || dims[1] < 1 || strides[0] % 16 != 0 || strides[0] < dims[0] * 2) why = "dims or stride";
    else if (box[0] < 1 || box[1] < 1 || box[0] > 256 || box[1] > 256 || box[0] * 2 > 128 || (box[0] * 2) % 16 != 0)
        why = "box (inner box bytes at most the 128-byte swizzle span, a multiple of 16; each dim 1 .. 256)";
    else if (elementStrides[0] != 1 || elementStrides[1] != 1) why = "element strides other than 1";
    if (why != nullptr) {
        std::fprintf(stderr, "emu: cuTensorMapEncodeTiled refused: %s\n", why);
        return 1;
    }
    emu_tensor_map m{EMU_TENSOR_MAP_MAGIC, static_cast<unsigned>(dtype), rank, static_cast<unsigned>(swizzle),
                     reinterpret_cast<uintptr_t>(address), {dims[0], dims[1]}, strides[0], {box[0], box[1]}};
    std::memset(map, 0, 128);
    std::memcpy(map, &m, sizeof m);
    return 0;
}

/* mbarrier.expect_tx: tx-count += bytes, no arrival. */
inline void emu_mbarrier_expect_tx(unsigned long long* bar, unsigned bytes) {
    emu_mbar_state s = emu_mbar_load(bar, "mbarrier.expect_tx");
    emu_mbar_add_tx(bar, s, bytes, "mbarrier.expect_tx");
    emu_mbar_store(bar, s);
}

/*
 * cp.async.bulk.tensor.2d ... mbarrier::complete_tx::bytes: the box at (c0 = inner coordinate, c1 = row) read now,
 * elements outside the tensor as zeros, laid out as the 128-byte swizzle writes it (row r of the box at byte
 * 128 r of a 1024-byte aligned destination, its 16-byte chunk j at chunk j ^ (r % 8)); landing deferred as for
 * emu_bulk_copy_g2s, and the barrier owed the whole box's bytes.
 */
inline void emu_tma_load_2d(void* dst, const void* map, int c0, int c1, unsigned long long* bar) {
    emu_tensor_map m;
    std::memcpy(&m, map, sizeof m);
    if (m.magic != EMU_TENSOR_MAP_MAGIC) {
        std::fprintf(stderr, "emu: cp.async.bulk.tensor of thread %u: %p is not a tensor map\n", threadIdx.x, map);
        std::abort();
    }
    const unsigned char* b = emu.dynamic_smem.data();
    unsigned char* d = static_cast<unsigned char*>(dst);
    const size_t bytes = static_cast<size_t>(m.box[0]) * 2 * m.box[1];
    const size_t at = static_cast<size_t>(d - b);
    if (d < b || at + bytes > emu.dynamic_smem.size() || at % 1024 != 0 || m.box[0] * 2 != 128) {
        std::fprintf(stderr, "emu: cp.async.bulk.tensor of thread %u: %zu bytes to shared byte %zu (outside the block's"
                     " dynamic shared memory, not 1024-byte aligned for the swizzle, or rows other than 128 bytes)\n",
                     threadIdx.x, bytes, at);
        std::abort();
    }
    const size_t barOff = emu_mbar_offset(bar, "cp.async.bulk.tensor");
    if (barOff + 8 > at && barOff < at + bytes) {
        std::fprintf(stderr, "emu: cp.async.bulk.tensor of thread %u overwrites its own mbarrier\n", threadIdx.x);
        std::abort();
    }
    emu_mbar_load(bar, "cp.async.bulk.tensor");
    std::vector<unsigned char> box(bytes, 0);
    const unsigned char* src = reinterpret_cast<const unsigned char*>(static_cast<uintptr_t>(m.address));
    for (unsigned r = 0; r < m.box[1]; r++) {
        const long long row = static_cast<long long>(c1) + r;
        for (unsigned e = 0; e < m.box[0]; e++) {
            const long long col = static_cast<long long>(c0) + e;
            if (row < 0 || col < 0 || row >= static_cast<long long>(m.dims[1]) || col >= static_cast<long long>(m.dims[0]))
                continue;   /* zero fill */
            const size_t to = r * 128 + (((e / 8) ^ (r % 8)) * 16) + (e % 8) * 2;
            std::memcpy(&box[to], src + row * m.rowBytes + col * 2, 2);
        }
    }
    emu.bulk_in_flight.push_back({bar, d, std::move(box)});
    emu_bulk_issue(d, bytes, "cp.async.bulk.tensor");
}

inline void emu_trampoline() {
    emu.body(emu.params);
    for (const auto& g : emu.cp_groups[emu.current]) {   /* cp.async nobody waited for lands as the thread ends */
        for (const auto& c : g) emu_cp_async_land(c, emu.current);
    }
    emu.cp_groups[emu.current].clear();
    for (const auto& g : emu.wgmma_groups[emu.current]) {
        if (!g.empty()) {
            std::fprintf(stderr, "emu: thread %u ended with wgmma not retired by a wait_group\n", emu.current);
            std::abort();
        }
    }
    emu.fibers[emu.current].state = EMU_DONE;
    // returning switches to uc_link (the scheduler)
}

/*
 * Warps out of step (EMU_SKEW in the environment): by default every warp meeting (shuffle, mma, ldmatrix, __syncwarp)
 * is released as soon as its 32 lanes are there, so warps advance in step between block barriers and a warp that
 * refills a buffer other warps still read (a write-after-read race) is never ahead of them. EMU_SKEW=1 releases warp
 * w's meetings only every 1 + w % 4 scheduler sweeps (warp 0 fastest), EMU_SKEW=2 every 4 - w % 4 (warp 0
 * slowest), so such a warp runs ahead; with the 0xFF a copy's destination holds until it lands, the readers it
 * overtook read NaN. run.sh runs the asynchronous-copy kernels' checks once more under each.
 */
inline unsigned emu_skew_period(unsigned warp) {
    static const int mode = [] {
        const char* v = std::getenv("EMU_SKEW");
        return v == nullptr ? 0 : std::atoi(v);
    }();
    return mode == 1 ? 1 + warp % 4 : mode == 2 ? 4 - warp % 4 : 1;
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
    emu.mma_exchange.assign(threads * 20u, 0);
    emu.mma_turn.assign(threads, 0);
    emu.wgmma_exchange.assign(threads * 6u, 0);
    emu.wgmma_turn.assign(threads, 0);
    emu.wgmma_groups.assign(threads, {});
    emu.cp_groups.assign(threads, {});
    emu.generic_marked.assign(threads, {});
    emu.wgmma_fenced.assign(threads, 0);
    for (unsigned by = 0; by < gy; by++) {
        for (unsigned bx = 0; bx < gx; bx++) {
            blockIdx = {bx, by, 0};
            // all-one bits: NaN as f32 and as bf16, so reading shared memory nobody wrote shows in the results
            emu.dynamic_smem.assign(smem + 16, 0xFF);
            std::fill(emu.mma_turn.begin(), emu.mma_turn.end(), 0);
            std::fill(emu.wgmma_turn.begin(), emu.wgmma_turn.end(), 0);
            for (auto& g : emu.wgmma_groups) g.clear();
            for (auto& g : emu.cp_groups) g.clear();
            for (auto& m : emu.generic_marked) m.clear();
            emu.generic_owner.assign((emu.dynamic_smem.size() + 15) / 16, 0);
            std::fill(emu.wgmma_fenced.begin(), emu.wgmma_fenced.end(), 0);
            emu.bulk_in_flight.clear();
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
            unsigned long sweep = 0;
            while (live > 0) {
                bool progressed = false;
                sweep++;
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
                    if (all && sweep % emu_skew_period(w) != 0) {
                        progressed = true;   /* held back this sweep (EMU_SKEW) */
                    } else if (all) {
                        for (unsigned l = 0; l < 32; l++) emu.fibers[w * 32 + l].state = EMU_READY;
                        progressed = true;
                    }
                }
                // release warpgroups whose 128 threads all wait at a warpgroup meeting (wgmma)
                for (unsigned w = 0; w < threads / 128; w++) {
                    bool all = true;
                    for (unsigned l = 0; l < 128; l++) all = all && emu.fibers[w * 128 + l].state == EMU_WARPGROUP_WAIT;
                    if (all) {
                        for (unsigned l = 0; l < 128; l++) emu.fibers[w * 128 + l].state = EMU_READY;
                        progressed = true;
                    }
                }
                // wake the fibers whose mbarrier phase has completed
                for (unsigned t = 0; t < threads; t++) {
                    emu_fiber& f = emu.fibers[t];
                    if (f.state == EMU_MBARRIER_WAIT && emu_mbarrier_wait_done(f.waitBar, f.waitParity)) {
                        f.state = EMU_READY;
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
                    for (unsigned t = 0; t < threads; t++) {
                        const emu_fiber& f = emu.fibers[t];
                        if (f.state != EMU_MBARRIER_WAIT) continue;
                        const emu_mbar_state s = emu_mbar_load(f.waitBar, "mbarrier wait");
                        std::fprintf(stderr, "emu: thread %u waits for the phase of parity %u of the mbarrier at shared byte"
                                     " %zu, which can never complete (current parity %u, %u of %u arrivals pending,"
                                     " tx-count %ld)\n", t, f.waitParity, emu_mbar_offset(f.waitBar, "mbarrier wait"),
                                     s.parity, s.pending, s.expected, s.tx);
                    }
                    std::fprintf(stderr, "emu: deadlock in block (%u, %u)\n", bx, by);
                    std::abort();
                }
            }
            if (!emu.bulk_in_flight.empty()) {
                std::fprintf(stderr, "emu: block (%u, %u) ended with %zu cp.async.bulk in flight (no thread waited for"
                             " their mbarrier phase, or their phase completed without them: more bytes copied than its"
                             " expect_tx announced)\n", bx, by, emu.bulk_in_flight.size());
                std::abort();
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

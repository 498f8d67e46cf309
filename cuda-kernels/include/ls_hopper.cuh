/*
 * Hopper primitives: the sm_90a warpgroup tensor-core product (wgmma.mma_async, both operands in shared memory)
 * and the sm_90 bulk copy engine with its transaction barriers (mbarrier, cp.async.bulk): see the second part.
 *
 * Only the sm_90a target has them (PTX ISA, "Asynchronous Warpgroup Level Matrix Multiply-Accumulate"):
 * LS_HAS_WGMMA is 1 there (and in the CPU emulation, emulate/emu.h, which implements each one), 0 for the
 * sm_80 machine code and the compute_90 PTX of the fatbin. Kernels that use them compile their body only
 * under LS_HAS_WGMMA and trap elsewhere; the Java side launches them only on compute capability 9.0, where
 * the driver picks the sm_90a cubin.
 *
 * Shared-memory layouts: K-major, in two forms. The 128-byte swizzle layout (ls_wgmma_desc_sw128, below; the MoE
 * kernels) keeps each operand row's 64 values in one 128-byte row and spreads a warp's accesses over all banks by
 * an XOR; it is what TMA writes and CUTLASS prefers. The no-swizzle ("interleaved") canonical layout
 * (ls_wgmma_desc) is a plain sum:
 *
 * The no-swizzle layout (16-bit elements, T = 8 per 16 bytes): the operand is made of core matrices of 8 rows x 16
 * bytes, each 128 contiguous bytes (row r of the core matrix at byte 16 r). With mn the row (M of A, N of B)
 * and k the column, element (mn, k) sits at byte
 *     (mn % 8) * 16 + (mn / 8) * SBO + (k % 8) * 2 + (k / 8) * LBO
 * (CuTe form ((8,m),(T,2k)):((1T,SBO),(1,LBO))): LBO, the "leading dimension byte offset", is the distance
 * between core matrices adjacent in K; SBO, the "stride dimension byte offset", between core matrices
 * adjacent in M or N. Both multiples of 16.
 *
 * Matrix descriptor (64 bits): bits 0-13 start address >> 4 (shared window, 16-byte aligned), 16-29
 * LBO >> 4, 32-45 SBO >> 4, 49-51 base offset (0 for aligned atoms), 62-63 swizzle mode (0: none, 1: 128 bytes);
 * the rest 0.
 *
 * Accumulator fragment of m64nNk16 with f32 D: warp w (0..3) of the warpgroup owns rows 16w .. 16w+15; with
 * g = lane / 4, t = lane % 4, register d[4j + i] (j < N/8) holds row 16w + g + 8 (i / 2), column
 * 8j + 2t + (i % 2): the mma.m16n8 C fragment repeated over N in steps of 8 columns.
 */
#ifndef LS_HOPPER_CUH
#define LS_HOPPER_CUH

#if defined(LS_EMULATION) || (defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL))
#define LS_HAS_WGMMA 1
#else
#define LS_HAS_WGMMA 0
#endif

/* wgmma's warpgroup: 4 consecutive warps starting at a warp index divisible by 4 */
#define LS_WARPGROUP_THREADS 128

#if LS_HAS_WGMMA

/* The descriptor of an operand starting at `tile` (shared memory, 16-byte aligned) in the no-swizzle K-major
 * canonical layout above; lbo and sbo in bytes, multiples of 16, below 2^18. */
__device__ __forceinline__ unsigned long long ls_wgmma_desc(const void* tile, unsigned lbo, unsigned sbo) {
    const unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(tile));
    return static_cast<unsigned long long>((addr & 0x3FFFFu) >> 4)
           | (static_cast<unsigned long long>((lbo & 0x3FFFFu) >> 4) << 16)
           | (static_cast<unsigned long long>((sbo & 0x3FFFFu) >> 4) << 32);
}

/* Orders this thread's earlier register accesses (the accumulators) before the next wgmma.mma_async. */
__device__ __forceinline__ void ls_wgmma_fence() {
#ifdef LS_EMULATION
    emu_wgmma_fence();
#else
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}

/* Closes the group of wgmma.mma_async issued since the last commit. */
__device__ __forceinline__ void ls_wgmma_commit() {
#ifdef LS_EMULATION
    emu_wgmma_commit();
#else
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}

/* Waits until at most N committed groups are pending: their accumulators are then readable and the shared
 * memory they read may be overwritten (after a barrier, for what other threads write). */
template <int N>
__device__ __forceinline__ void ls_wgmma_wait() {
#ifdef LS_EMULATION
    emu_wgmma_wait(N);
#else
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#endif
}

/* Ordinary shared-memory stores (and cp.async, completed by its own wait) made visible to the async proxy that
 * wgmma reads through: each writing thread, after its writes, before the barrier that precedes the wgmma. */
__device__ __forceinline__ void ls_fence_proxy_async_shared() {
#ifdef LS_EMULATION
    emu_fence_proxy_async();   /* tracks which cp.async writes are fenced (emu.h) */
#else
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

/*
 * D (64 x 128 f32, the fragment above: 64 registers per thread) = A·Bᵀ + (scaleD ? D : 0), A 64 x 16 bf16 and
 * B 128 x 16 bf16 (rows = the N output columns), both K-major in shared memory through their descriptors:
 * wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 with no transposes and unit scales. Asynchronous: d
 * may be read only after ls_wgmma_commit and ls_wgmma_wait covering it; all 128 threads of the warpgroup call
 * it together with the same descriptors.
 */
__device__ __forceinline__ void ls_wgmma_m64n128k16_bf16(float (&d)[64], unsigned long long descA,
                                                         unsigned long long descB, int scaleD) {
#ifdef LS_EMULATION
    emu_wgmma_bf16(d, 128, descA, descB, scaleD);
#else
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
        "%64, %65, p, 1, 1, 0, 0;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "l"(descA), "l"(descB), "r"(scaleD)
        : "memory");
#endif
}

/*
 * The 128-byte swizzle layout (K-major, 16-bit elements): an operand row holds 64 values of k (128 bytes) and
 * 8 consecutive rows form a 1024-byte atom (1024-byte aligned in the shared window); atoms of the next 8 rows
 * follow at SBO = 1024. Within an atom, the 16-byte chunk j (values 8j .. 8j+7) of row r sits at chunk
 * j ^ (r % 8) of that row: a warp storing the same chunk of 8 rows (or reading a k-slice of them) touches 8
 * different bank groups. The hardware applies the XOR to the address it forms (bits 4-6 ^= bits 7-9), so the
 * descriptor of the k-slice 16s .. 16s+15 is that of the atom base + 32 s bytes. LBO is unused in this mode
 * (1 by convention); the base offset is 0 for 1024-byte aligned atoms.
 */
__device__ __forceinline__ unsigned long long ls_wgmma_desc_sw128(const void* kslice) {
    const unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(kslice));
    return static_cast<unsigned long long>((addr & 0x3FFFFu) >> 4) | (1ull << 16) | ((1024ull >> 4) << 32)
           | (1ull << 62);
}

/* Byte offset of the 16-byte chunk j (values 8j .. 8j+7) of row r of an operand tile in the 128-byte swizzle
 * layout above, from the tile's (1024-byte aligned) start. */
__device__ __forceinline__ int ls_sw128_chunk(int r, int j) {
    return r * 128 + ((j ^ (r & 7)) << 4);
}

/*
 * D (64 x 256 f32: 128 registers per thread, the fragment above with j < 32) = A·Bᵀ + (scaleD ? D : 0):
 * wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16, A 64 x 16 and B 256 x 16 bf16 in shared memory through
 * their descriptors. As ls_wgmma_m64n128k16_bf16 otherwise.
 */
__device__ __forceinline__ void ls_wgmma_m64n256k16_bf16(float (&d)[128], unsigned long long descA,
                                                         unsigned long long descB, int scaleD) {
#ifdef LS_EMULATION
    emu_wgmma_bf16(d, 256, descA, descB, scaleD);
#else
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %130, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 "
        "{"
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "
        "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "
        "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "
        "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "
        "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
        "}, "
        "%128, %129, p, 1, 1, 0, 0;\n"
        "}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
          "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
          "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
          "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
          "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),
          "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),
          "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
          "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),
          "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
        : "l"(descA), "l"(descB), "r"(scaleD)
        : "memory");
#endif
}

/*
 * setmaxnreg (sm_90a): a warpgroup gives back registers (dec) or takes them (inc) so that a producer warpgroup
 * runs on few and the consumers hold large accumulators. It takes effect only in a kernel with a register cap at
 * entry (__launch_bounds__(threads, 1)) and with each role one branch of an if/else (else ptxas says C7508).
 * N: a multiple of 8 in 24 .. 256. Nothing in the emulation (registers are not modelled).
 */
template <int N>
__device__ __forceinline__ void ls_setmaxnreg_dec() {
#ifndef LS_EMULATION
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
#endif
}

template <int N>
__device__ __forceinline__ void ls_setmaxnreg_inc() {
#ifndef LS_EMULATION
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
#endif
}

#endif /* LS_HAS_WGMMA */

/*
 * The bulk copy engine (PTX ISA, "Data Movement and Conversion Instructions: cp.async.bulk") and the mbarrier
 * transaction barrier it completes on ("Parallel Synchronization and Communication Instructions: mbarrier").
 * Plain sm_90 (no "a" features, no tensor map for a 1-D copy of contiguous bytes): LS_HAS_BULK_COPY is 1 for
 * __CUDA_ARCH__ >= 900 (the sm_90a cubin and the compute_90 PTX) and in the emulation, 0 for the sm_80 code,
 * where these helpers trap; kernels that use them are launched on compute capability >= 9.0 only.
 *
 * An mbarrier is 8 bytes of shared memory (8-byte aligned) holding, as the ISA describes it, the current phase's
 * parity, its pending arrival count (reset to the expected count when a phase completes) and its tx-count
 * (bytes of asynchronous transactions still owed to it). A phase completes once its pending arrivals and its
 * tx-count are both 0; the barrier then moves to the next phase (the parity flips). The pattern:
 *   init (one thread, count 1 for one producer), ls_fence_mbarrier_init, __syncthreads (everyone sees it);
 *   per use: the producer arrives with expect_tx(total bytes), issues copies whose sizes sum to that total;
 *   consumers wait for the phase with parity (use number & 1), which also makes the copied bytes visible.
 * tx-count may dip below 0 while a copy lands before the expect_tx; the phase still waits for the arrival.
 * A waiter must not fall two phases behind (parity cannot tell phase k from k + 2): the consumer of use k
 * of a barrier must be done waiting before the producer arrives for use k + 1 (the kernels' block barriers
 * between the two ensure it).
 */
#if defined(LS_EMULATION) || (defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900)
#define LS_HAS_BULK_COPY 1
#else
#define LS_HAS_BULK_COPY 0
#endif

#if LS_HAS_BULK_COPY && !defined(LS_EMULATION)
/* The 32-bit shared-window address the mbarrier and bulk instructions take. */
__device__ __forceinline__ unsigned ls_smem_u32(const void* p) {
    return static_cast<unsigned>(__cvta_generic_to_shared(p));
}
#endif

/* mbarrier.init: phase 0, `count` arrivals expected per phase (1 .. 2^20 - 1), tx-count 0. One thread. */
__device__ __forceinline__ void ls_mbarrier_init(unsigned long long* bar, unsigned count) {
#if defined(LS_EMULATION)
    emu_mbarrier_init(bar, count);
#elif LS_HAS_BULK_COPY
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(ls_smem_u32(bar)), "r"(count) : "memory");
#else
    __trap();
#endif
}

/* The fence the ISA asks for after mbarrier.init before the barrier is used by other threads or the async proxy
 * (the bulk copy engine's complete_tx): fence.mbarrier_init.release.cluster (its only form). A block barrier
 * after it then publishes the initialised barriers to the block's threads. */
__device__ __forceinline__ void ls_fence_mbarrier_init() {
#if defined(LS_EMULATION)
#elif LS_HAS_BULK_COPY
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#else
    __trap();
#endif
}

/* mbarrier.arrive.expect_tx: tx-count += bytes, then one arrival (release semantics, CTA scope). */
__device__ __forceinline__ void ls_mbarrier_arrive_expect_tx(unsigned long long* bar, unsigned bytes) {
#if defined(LS_EMULATION)
    emu_mbarrier_arrive(bar, bytes);
#elif LS_HAS_BULK_COPY
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(ls_smem_u32(bar)), "r"(bytes)
                 : "memory");
#else
    __trap();
#endif
}

/* mbarrier.expect_tx: tx-count += bytes, no arrival (the thread that issues a copy owes the phase its bytes; its own
 * arrival may come later). */
__device__ __forceinline__ void ls_mbarrier_expect_tx(unsigned long long* bar, unsigned bytes) {
#if defined(LS_EMULATION)
    emu_mbarrier_expect_tx(bar, bytes);
#elif LS_HAS_BULK_COPY
    asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;\n" ::"r"(ls_smem_u32(bar)), "r"(bytes)
                 : "memory");
#else
    __trap();
#endif
}

/* mbarrier.arrive: one arrival, no transaction bytes. */
__device__ __forceinline__ void ls_mbarrier_arrive(unsigned long long* bar) {
#if defined(LS_EMULATION)
    emu_mbarrier_arrive(bar, 0);
#elif LS_HAS_BULK_COPY
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(ls_smem_u32(bar)) : "memory");
#else
    __trap();
#endif
}

/* mbarrier.try_wait.parity: whether the phase with this parity (0 or 1) has completed, i.e. the barrier's current
 * phase has the other parity (acquire semantics when true: the phase's arrivals' writes and its completed copies
 * are visible). May suspend the thread for a while before answering false. */
__device__ __forceinline__ bool ls_mbarrier_try_wait_parity(unsigned long long* bar, unsigned parity) {
#if defined(LS_EMULATION)
    return emu_mbarrier_test_parity(bar, parity);
#elif LS_HAS_BULK_COPY
    unsigned done;
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        "selp.u32 %0, 1, 0, p;\n"
        "}\n"
        : "=r"(done)
        : "r"(ls_smem_u32(bar)), "r"(parity)
        : "memory");
    return done != 0;
#else
    __trap();
    return false;
#endif
}

/* Nanoseconds a phase may take before ls_mbarrier_wait_parity gives up: far beyond any legitimate wait (a stage's
 * copies or products take microseconds), short enough that a protocol bug fails its launch instead of hanging the
 * process (and the device check's time). */
#define LS_MBARRIER_WATCHDOG_NS 4000000000ull

/* Waits until the phase with this parity has completed: a try_wait loop (each try suspends the thread for a
 * while), trapping after LS_MBARRIER_WATCHDOG_NS of the global timer: a phase that never completes (a wrong
 * parity, a missing arrival or expect_tx) becomes a failed launch, not a hung GPU. The emulation parks the fiber
 * instead of spinning, and aborts with the barrier's state if the phase can never complete. */
__device__ __forceinline__ void ls_mbarrier_wait_parity(unsigned long long* bar, unsigned parity) {
#if defined(LS_EMULATION)
    emu_mbarrier_wait_parity(bar, parity);
#else
    if (ls_mbarrier_try_wait_parity(bar, parity)) {
        return;
    }
    unsigned long long start;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    while (!ls_mbarrier_try_wait_parity(bar, parity)) {
        unsigned long long now;
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
        if (now - start > LS_MBARRIER_WATCHDOG_NS) {
            __trap();
        }
    }
#endif
}

/* cp.async.bulk global -> shared, 1-D: `bytes` contiguous bytes (a multiple of 16, > 0) from src (global,
 * 16-byte aligned) to dst (shared, 16-byte aligned) by the bulk copy engine, asynchronously; on completion it
 * performs complete_tx(bytes) on bar (shared, this block's), which the issuer's arrive.expect_tx accounted for.
 * The destination is written through the async proxy: shared memory the block read or wrote with ordinary
 * accesses must be done with (a barrier) before the copy is issued over it. */
__device__ __forceinline__ void ls_bulk_copy_g2s(void* dst, const void* src, unsigned bytes, unsigned long long* bar) {
#if defined(LS_EMULATION)
    emu_bulk_copy_g2s(dst, src, bytes, bar);
#elif LS_HAS_BULK_COPY
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n"
                 ::"r"(ls_smem_u32(dst)), "l"(src), "r"(bytes), "r"(ls_smem_u32(bar))
                 : "memory");
#else
    __trap();
#endif
}

/*
 * The bulk tensor copy (TMA): the box of a tensor map (cuTensorMapEncodeTiled; the map in global memory, written by
 * the host before the launch, or a __grid_constant__ parameter) at coordinates (c0 = innermost, c1) into shared
 * memory at dst (1024-byte aligned for the 128-byte swizzle), completing on bar with the box's bytes (zeros for
 * elements past the tensor's edges count too): cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::
 * complete_tx::bytes. Plain sm_90 (no cluster launched: the CTA is its own cluster).
 */
__device__ __forceinline__ void ls_tma_load_2d(void* dst, const void* map, int c0, int c1, unsigned long long* bar) {
#if defined(LS_EMULATION)
    emu_tma_load_2d(dst, map, c0, c1, bar);
#elif LS_HAS_BULK_COPY
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n"
        ::"r"(ls_smem_u32(dst)), "l"(reinterpret_cast<unsigned long long>(map)), "r"(c0), "r"(c1),
          "r"(ls_smem_u32(bar))
        : "memory");
#else
    __trap();
#endif
}

#endif /* LS_HOPPER_CUH */

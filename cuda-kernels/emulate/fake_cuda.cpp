// A fake libcuda.so (driver API) that runs the LatentServe kernels under emu.h on the CPU: device memory is
// host memory, every call is synchronous, streams/events/modules are tokens. For running the GPU-tagged
// Java tests on a machine without a GPU (see run-java.sh). Stream capture records kernel launches, memsets and
// host-to-device copies (the copy reads its source when the graph runs, as a pinned-memory copy node does) and
// cuGraphLaunch replays them, as do the fake libcublas's GEMMs (fake_cuda_enqueue); any other call during capture
// runs at once.
#include "emu.h"
#include "kernels_emu.inc"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

typedef int CUresult;
static const CUresult OK = 0, NOT_FOUND = 500, NOT_SUPPORTED = 801, INVALID_VALUE = 1;

struct FakeFunction {
    const char* name;
    void (*launch)(const void* params, unsigned gx, unsigned gy, unsigned threads, size_t smem);
    size_t paramBytes;                  /* the struct's size: a captured launch keeps a copy */
    int maxDynamicShared = 48 * 1024;   /* raised by cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES) */
};

/* The operations of a capture, in order; a graph and its instance are the same list here. */
struct FakeGraph {
    std::vector<std::function<void()>> ops;
};
static FakeGraph* capturing = nullptr;
static long long graphLaunches = 0;

/* Runs op now, or appends it to the capture in progress. */
static void run_or_capture(std::function<void()> op) {
    if (capturing) {
        capturing->ops.push_back(std::move(op));
    } else {
        op();
    }
}

/* The fake libcublas's GEMMs on this stream: run now or captured. Takes ownership of job. */
extern "C" void fake_cuda_enqueue(std::function<void()>* job) {
    std::shared_ptr<std::function<void()>> owned(job);
    run_or_capture([owned] { (*owned)(); });
}

template <typename P, void (*K)(const P)>
static void launcher(const void* params, unsigned gx, unsigned gy, unsigned threads, size_t smem) {
    emu_launch(K, gx, gy, threads, smem, *static_cast<const P*>(params));
}

#define LS_KERNEL(name, P) {#name, launcher<P, name>, sizeof(P)}
static FakeFunction functions[] = {
    LS_KERNEL(ls_embedding, LsEmbeddingParams), LS_KERNEL(ls_rmsnorm, LsRmsNormParams), LS_KERNEL(ls_add, LsAddParams),
    LS_KERNEL(ls_silu_mul, LsSiluMulParams), LS_KERNEL(ls_rope, LsRopeParams), LS_KERNEL(ls_copy_rows, LsCopyRowsParams), LS_KERNEL(ls_mla_latent, LsMlaLatentParams),
    LS_KERNEL(ls_split_bf16, LsSplitBf16Params), LS_KERNEL(ls_attention, LsAttentionParams),
    LS_KERNEL(ls_mla_absorb_q, LsMlaAbsorbParams), LS_KERNEL(ls_mla_apply_uv, LsMlaApplyUvParams),
    LS_KERNEL(ls_moe_route, LsMoeRouteParams), LS_KERNEL(ls_moe_combine, LsMoeCombineParams),
    LS_KERNEL(ls_sample, LsSampleParams), LS_KERNEL(ls_logit_edits, LsLogitEditsParams),
    LS_KERNEL(ls_fill_hashed, LsFillHashedParams),
    LS_KERNEL(ls_mla_decode, LsMlaDecodeParams), LS_KERNEL(ls_mla_combine, LsMlaCombineParams),
    LS_KERNEL(ls_causal_softmax, LsCausalSoftmaxParams), LS_KERNEL(ls_gemv, LsGemvParams),
    LS_KERNEL(ls_moe_sort, LsMoeSortParams), LS_KERNEL(ls_moe_gate_up, LsMoeGateUpParams),
    LS_KERNEL(ls_moe_down, LsMoeDownParams), LS_KERNEL(ls_mla_decode_tc, LsMlaDecodeTcParams),
    LS_KERNEL(ls_mla_decode_tma, LsMlaDecodeTcParams),
    LS_KERNEL(ls_moe_gate_up_tc, LsMoeGateUpTcParams), LS_KERNEL(ls_moe_down_tc, LsMoeDownTcParams),
    LS_KERNEL(ls_moe_gate_up_wgmma, LsMoeGateUpWgmmaParams), LS_KERNEL(ls_moe_down_wgmma, LsMoeDownWgmmaParams),
    LS_KERNEL(ls_mla_prefill_tc, LsMlaPrefillTcParams),
};

static int token;            // the address of this stands for every context, stream, event, module
static long long launches = 0;

extern "C" {
CUresult cuInit(unsigned) { return OK; }
CUresult cuDriverGetVersion(int* v) { *v = 13000; return OK; }
CUresult cuGetErrorName(CUresult e, const char** s) { *s = e == NOT_FOUND ? "CUDA_ERROR_NOT_FOUND" : "CUDA_ERROR_FAKE"; return OK; }
CUresult cuGetErrorString(CUresult, const char** s) { *s = "error of the emulated driver"; return OK; }
CUresult cuDeviceGetCount(int* n) { *n = 1; return OK; }
CUresult cuDeviceGet(int* d, int ordinal) { *d = ordinal; return ordinal == 0 ? OK : INVALID_VALUE; }
CUresult cuDeviceGetName(char* name, int len, int) { std::snprintf(name, len, "Emulated GPU (CPU fibers)"); return OK; }
CUresult cuDeviceGetAttribute(int* v, int attr, int) {
    switch (attr) {
        case 75: *v = 9; break;      // compute capability major
        case 76: *v = 0; break;      // minor
        case 16: *v = 132; break;    // multiprocessors
        case 1: *v = 1024; break;    // max threads per block
        case 97: *v = 232448; break; // shared memory opt-in
        default: *v = 0;
    }
    return OK;
}
CUresult cuDeviceTotalMem_v2(size_t* b, int) { *b = 64ull << 30; return OK; }
CUresult cuDevicePrimaryCtxRetain(void** ctx, int) { *ctx = &token; return OK; }
CUresult cuDevicePrimaryCtxRelease_v2(int) { return OK; }
CUresult cuCtxSetCurrent(void*) { return OK; }
CUresult cuCtxSynchronize() { return OK; }
CUresult cuMemGetInfo_v2(size_t* free, size_t* total) { *free = 60ull << 30; *total = 64ull << 30; return OK; }
CUresult cuMemAlloc_v2(unsigned long long* p, size_t bytes) {
    void* m = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!m) return 2; // out of memory
    if (bytes <= (256u << 20)) std::memset(m, 0xCD, bytes); // garbage, as device memory is (big arenas stay untouched)
    *p = (unsigned long long) (uintptr_t) m;
    return OK;
}
CUresult cuMemFree_v2(unsigned long long p) { std::free((void*) (uintptr_t) p); return OK; }
CUresult cuMemcpyHtoD_v2(unsigned long long d, const void* s, size_t n) { std::memcpy((void*) (uintptr_t) d, s, n); return OK; }
CUresult cuMemcpyDtoH_v2(void* d, unsigned long long s, size_t n) { std::memcpy(d, (void*) (uintptr_t) s, n); return OK; }
CUresult cuMemcpyDtoD_v2(unsigned long long d, unsigned long long s, size_t n) { std::memmove((void*) (uintptr_t) d, (void*) (uintptr_t) s, n); return OK; }
CUresult cuMemcpyHtoDAsync_v2(unsigned long long d, const void* s, size_t n, void*) {
    run_or_capture([d, s, n] { std::memcpy((void*) (uintptr_t) d, s, n); });
    return OK;
}
CUresult cuMemcpyDtoHAsync_v2(void* d, unsigned long long s, size_t n, void*) { return cuMemcpyDtoH_v2(d, s, n); }
CUresult cuMemcpyDtoDAsync_v2(unsigned long long d, unsigned long long s, size_t n, void*) { return cuMemcpyDtoD_v2(d, s, n); }
CUresult cuMemsetD8_v2(unsigned long long d, unsigned char v, size_t n) { std::memset((void*) (uintptr_t) d, v, n); return OK; }
CUresult cuMemsetD32_v2(unsigned long long d, unsigned v, size_t n) {
    unsigned* p = (unsigned*) (uintptr_t) d;
    for (size_t i = 0; i < n; i++) p[i] = v;
    return OK;
}
CUresult cuMemsetD8Async(unsigned long long d, unsigned char v, size_t n, void*) { return cuMemsetD8_v2(d, v, n); }
CUresult cuMemsetD32Async(unsigned long long d, unsigned v, size_t n, void*) {
    run_or_capture([d, v, n] { cuMemsetD32_v2(d, v, n); });
    return OK;
}
CUresult cuMemHostAlloc(void** p, size_t n, unsigned) { *p = std::aligned_alloc(4096, (n + 4095) / 4096 * 4096); return *p ? OK : 2; }
CUresult cuMemFreeHost(void* p) { std::free(p); return OK; }
CUresult cuStreamCreate(void** s, unsigned) { *s = &token; return OK; }
CUresult cuStreamDestroy_v2(void*) { return OK; }
CUresult cuStreamSynchronize(void*) { return OK; }
CUresult cuEventCreate(void** e, unsigned) { *e = &token; return OK; }
CUresult cuEventRecord(void*, void*) { return OK; }
CUresult cuEventSynchronize(void*) { return OK; }
CUresult cuEventElapsedTime_v2(float* ms, void*, void*) { *ms = 0; return OK; }
CUresult cuEventElapsedTime(float* ms, void*, void*) { *ms = 0; return OK; }
CUresult cuEventDestroy_v2(void*) { return OK; }
CUresult cuModuleLoadData(void** m, const void* image) {
    if (!image || *(const unsigned*) image != 0xBA55ED50u) return 200; // CUDA_ERROR_INVALID_IMAGE
    *m = &token;
    return OK;
}
CUresult cuModuleUnload(void*) { return OK; }
CUresult cuModuleGetFunction(void** f, void*, const char* name) {
    for (auto& fn : functions) {
        if (std::strcmp(fn.name, name) == 0) { *f = &fn; return OK; }
    }
    return NOT_FOUND;
}
/* Only the dynamic shared memory opt-in (attribute 8) matters: a launch above 48 KiB fails without it, as on
 * a GPU, so the fake checks that the Java side opts in; at most the opt-in limit reported above. */
CUresult cuFuncSetAttribute(void* f, int attr, int value) {
    if (attr == 8) {
        if (value < 0 || value > 232448) return INVALID_VALUE;
        static_cast<FakeFunction*>(f)->maxDynamicShared = value;
    }
    return OK;
}
CUresult cuFuncGetAttribute(int* v, int, void*) { *v = 0; return OK; }
CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned smem, void*, void** params, void** extra) {
    if (gz != 1 || by != 1 || bz != 1 || extra != nullptr || params == nullptr || bx % 32 != 0 || bx > 1024
        || smem > (unsigned) std::max(48 * 1024, static_cast<FakeFunction*>(f)->maxDynamicShared)) {
        return INVALID_VALUE;
    }
    launches++;
    FakeFunction* fn = static_cast<FakeFunction*>(f);
    std::vector<char> bytes(static_cast<const char*>(params[0]), static_cast<const char*>(params[0]) + fn->paramBytes);
    run_or_capture([fn, bytes, gx, gy, bx, smem] { fn->launch(bytes.data(), gx, gy, bx, smem); });
    return OK;
}
CUresult cuStreamBeginCapture_v2(void*, int) {
    if (capturing) return INVALID_VALUE;
    capturing = new FakeGraph();
    return OK;
}
CUresult cuStreamEndCapture(void*, void** graph) {
    if (!capturing) return INVALID_VALUE;
    *graph = capturing;
    capturing = nullptr;
    return OK;
}
CUresult cuGraphInstantiateWithFlags(void** exec, void* graph, unsigned long long) {
    *exec = new FakeGraph(*static_cast<FakeGraph*>(graph));
    return OK;
}
CUresult cuGraphLaunch(void* exec, void*) {
    graphLaunches++;
    for (auto& op : static_cast<FakeGraph*>(exec)->ops) op();
    return OK;
}
CUresult cuGraphExecDestroy(void* exec) { delete static_cast<FakeGraph*>(exec); return OK; }
CUresult cuGraphDestroy(void* graph) { delete static_cast<FakeGraph*>(graph); return OK; }
/* For tests: graphs launched so far. */
long long fake_graph_launches() { return graphLaunches; }
/* Tensor maps as the emulated bulk tensor copy reads them (emu.h): the driver's validation of what it emulates. */
CUresult cuTensorMapEncodeTiled(void* map, int dtype, unsigned rank, void* address, const unsigned long long* dims,
                                const unsigned long long* strides, const unsigned* box, const unsigned* elementStrides,
                                int interleave, int swizzle, int l2Promotion, int oobFill) {
    return emu_tensor_map_encode(map, dtype, rank, address, dims, strides, box, elementStrides, interleave, swizzle,
                                 l2Promotion, oobFill) == 0 ? OK : INVALID_VALUE;
}
}

// A fake libcublas.so: cublasGemmEx / cublasGemmStridedBatchedEx / cublasGemmGroupedBatchedEx on the CPU with cuBLAS's column-major
// semantics (f32 and bf16 inputs, f32 output, f32 accumulation), for run-java.sh. GemmEx and StridedBatchedEx go
// through the fake libcuda's stream (fake_cuda_enqueue): run at once, or recorded while a stream capture is on,
// as real cuBLAS calls are captured into a CUDA graph.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <functional>

static int token;
typedef int cublasStatus_t;
static const int CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14;

static float load(const void* base, long long i, int type) {
    if (type == CUDA_R_32F) return static_cast<const float*>(base)[i];
    unsigned short b = static_cast<const unsigned short*>(base)[i];
    if (type == CUDA_R_16BF) { unsigned u = (unsigned) b << 16; float f; std::memcpy(&f, &u, 4); return f; }
    return 0.0f / 0.0f; // f16 is not used by LatentServe
}

static cublasStatus_t gemm(int ta, int tb, int m, int n, int k, float alpha, const void* A, int at, int lda,
                           const void* B, int bt, int ldb, float beta, void* C, int ct, int ldc) {
    if (ct != CUDA_R_32F || at != bt || (at != CUDA_R_32F && at != CUDA_R_16BF)) return 15; // NOT_SUPPORTED
    float* c = static_cast<float*>(C);
#pragma omp parallel for schedule(static)
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            float acc = 0;
            for (int l = 0; l < k; l++) {
                float a = ta == 0 ? load(A, i + (long long) l * lda, at) : load(A, l + (long long) i * lda, at);
                float b = tb == 0 ? load(B, l + (long long) j * ldb, bt) : load(B, j + (long long) l * ldb, bt);
                acc = __builtin_fmaf(a, b, acc);
            }
            float* out = &c[i + (long long) j * ldc];
            *out = beta == 0 ? alpha * acc : alpha * acc + beta * *out;
        }
    }
    return 0;
}

/* The fake libcuda's enqueue (it takes ownership of the job), found in the already loaded library, or null. */
static void (*enqueue_fn())(std::function<void()>*) {
    static void (*fn)(std::function<void()>*) = [] {
        const char* path = std::getenv("LATENTSERVE_LIBCUDA");
        void* lib = path != nullptr ? dlopen(path, RTLD_NOW | RTLD_NOLOAD) : nullptr;
        return lib != nullptr ? reinterpret_cast<void (*)(std::function<void()>*)>(dlsym(lib, "fake_cuda_enqueue"))
                              : nullptr;
    }();
    return fn;
}

/* Runs the job on the fake stream (now, or when a captured graph replays), after its arguments were checked. */
static cublasStatus_t on_stream(std::function<void()> job) {
    if (auto fn = enqueue_fn()) {
        fn(new std::function<void()>(std::move(job)));
    } else {
        job();
    }
    return 0;
}

static bool supported(int at, int bt, int ct) {
    return ct == CUDA_R_32F && at == bt && (at == CUDA_R_32F || at == CUDA_R_16BF);
}

extern "C" {
cublasStatus_t cublasCreate_v2(void** h) { *h = &token; return 0; }
cublasStatus_t cublasDestroy_v2(void*) { return 0; }
cublasStatus_t cublasSetStream_v2(void*, void*) { return 0; }
cublasStatus_t cublasSetMathMode(void*, int) { return 0; }
cublasStatus_t cublasSetWorkspace_v2(void*, void*, size_t) { return 0; }
cublasStatus_t cublasGetVersion_v2(void*, int* v) { *v = 130000; return 0; }
cublasStatus_t cublasGemmEx(void*, int ta, int tb, int m, int n, int k, const void* alpha, const void* A, int at, int lda,
                            const void* B, int bt, int ldb, const void* beta, void* C, int ct, int ldc, int, int) {
    if (!supported(at, bt, ct)) return 15; // NOT_SUPPORTED
    const float a = *(const float*) alpha, b = *(const float*) beta;   // host scalars: taken by value
    return on_stream([=] { gemm(ta, tb, m, n, k, a, A, at, lda, B, bt, ldb, b, C, ct, ldc); });
}
cublasStatus_t cublasGemmStridedBatchedEx(void*, int ta, int tb, int m, int n, int k, const void* alpha,
                                          const void* A, int at, int lda, long long sa, const void* B, int bt, int ldb,
                                          long long sb, const void* beta, void* C, int ct, int ldc, long long sc,
                                          int batch, int, int) {
    if (!supported(at, bt, ct)) return 15; // NOT_SUPPORTED
    const float a = *(const float*) alpha, b = *(const float*) beta;
    const int eb = at == CUDA_R_32F ? 4 : 2;
    return on_stream([=] {
        for (int i = 0; i < batch; i++) {
            gemm(ta, tb, m, n, k, a, (const char*) A + i * sa * eb, at, lda, (const char*) B + i * sb * eb, bt, ldb, b,
                 (char*) C + i * sc * 4, ct, ldc);
        }
    });
}
// Per-group arrays are host arrays; the pointer arrays are "device" arrays, which the fake libcuda keeps in
// host memory, so they are read directly. Problems of group 0 first, as cuBLAS walks them.
cublasStatus_t cublasGemmGroupedBatchedEx(void*, const int* ta, const int* tb, const int* m, const int* n, const int* k,
                                          const void* alpha, const void* const* A, int at, const int* lda,
                                          const void* const* B, int bt, const int* ldb, const void* beta,
                                          void* const* C, int ct, const int* ldc, int groups, const int* size, int) {
    if (groups < 0) return 7; // INVALID_VALUE
    long long p = 0;
    for (int g = 0; g < groups; g++) {
        for (int i = 0; i < size[g]; i++, p++) {
            cublasStatus_t s = gemm(ta[g], tb[g], m[g], n[g], k[g], static_cast<const float*>(alpha)[g], A[p], at,
                                    lda[g], B[p], bt, ldb[g], static_cast<const float*>(beta)[g], C[p], ct, ldc[g]);
            if (s) return s;
        }
    }
    return 0;
}
}

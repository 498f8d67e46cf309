package io.latentserve.cuda.driver;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Stand-ins for libcuda.so.1, libcublas.so.12 and libcublasLt.so.12, compiled from the C below with the
 * machine's C compiler, so the FFM bindings (symbol names, argument order and types, out-parameters,
 * status handling, the row-major GEMM mapping) are exercised on machines without a GPU. "Device memory"
 * is host memory here, kernels run on the host, and cublasGemmEx is a naive column-major GEMM.
 *
 * <p>libcublas.so.12 is linked against libcublasLt.so.12 without a run path, like the pip wheels'
 * copies, so loading it works only because {@link io.latentserve.cuda.cublas.Cublas#load} loads cuBLASLt
 * first. Their sonames differ from the real ones (libfakecuda.so.1, ...) so that a real cuBLAS loaded
 * later in the same JVM never binds to a fake. Tests call {@link #available()} and skip where no C
 * compiler exists.
 */
@SuppressWarnings("restricted")
public final class FakeCuda {
    static final String LIBCUDA_C = """
            #include <stdlib.h>
            #include <string.h>
            #include <stdint.h>
            typedef unsigned long long CUdeviceptr;
            static int init_result = 0, device_count = 1, cc_major = 9, cc_minor = 0;
            static long long launch[9]; static int func_attr[2]; static int capture_mode = -1;
            void fake_configure(int init, int count, int major, int minor) {
              init_result = init; device_count = count; cc_major = major; cc_minor = minor;
            }
            void fake_last_launch(long long *out) { memcpy(out, launch, sizeof launch); }
            void fake_last_func_attr(int *out) { out[0] = func_attr[0]; out[1] = func_attr[1]; }
            int fake_capture_mode(void) { return capture_mode; }
            static const char *name_of(int e) {
              switch (e) { case 0: return "CUDA_SUCCESS"; case 1: return "CUDA_ERROR_INVALID_VALUE";
                case 2: return "CUDA_ERROR_OUT_OF_MEMORY"; case 100: return "CUDA_ERROR_NO_DEVICE";
                case 101: return "CUDA_ERROR_INVALID_DEVICE"; case 500: return "CUDA_ERROR_NOT_FOUND"; }
              return 0;
            }
            int cuGetErrorName(int e, const char **p) { *p = name_of(e); return *p ? 0 : 1; }
            int cuGetErrorString(int e, const char **p) {
              *p = e == 500 ? "named symbol not found" : e == 2 ? "out of memory" : name_of(e) ? "fake error" : 0;
              return *p ? 0 : 1;
            }
            int cuInit(unsigned flags) { return flags ? 1 : init_result; }
            int cuDriverGetVersion(int *v) { *v = 12080; return 0; }
            int cuDeviceGetCount(int *c) { *c = device_count; return 0; }
            int cuDeviceGet(int *d, int ordinal) { if (ordinal < 0 || ordinal >= device_count) return 101; *d = ordinal + 40; return 0; }
            int cuDeviceGetName(char *name, int len, int dev) { strncpy(name, "Fake GPU", len); return dev == 40 ? 0 : 101; }
            int cuDeviceGetAttribute(int *v, int attr, int dev) {
              switch (attr) { case 75: *v = cc_major; break; case 76: *v = cc_minor; break; case 16: *v = 132; break;
                case 97: *v = 232448; break; case 38: *v = 52428800; break; case 36: *v = 2619000; break;
                case 37: *v = 5120; break; default: *v = 0; }
              return dev == 40 ? 0 : 101;
            }
            int cuDeviceTotalMem_v2(size_t *bytes, int dev) { *bytes = 150000000000ULL; return 0; }
            int cuDevicePrimaryCtxRetain(void **ctx, int dev) { *ctx = (void *) 0x1234; return 0; }
            int cuDevicePrimaryCtxRelease_v2(int dev) { return 0; }
            int cuCtxSetCurrent(void *ctx) { return ctx == (void *) 0x1234 ? 0 : 1; }
            int cuCtxSynchronize(void) { return 0; }
            int cuMemGetInfo_v2(size_t *f, size_t *t) { *f = 100ULL << 30; *t = 141ULL << 30; return 0; }
            int cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
              if (n > (1ULL << 40)) return 2;
              void *m = aligned_alloc(256, (n + 255) / 256 * 256); *p = (CUdeviceptr) (uintptr_t) m; return m ? 0 : 2;
            }
            int cuMemFree_v2(CUdeviceptr p) { free((void *) (uintptr_t) p); return 0; }
            int cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) { memcpy((void *) (uintptr_t) d, s, n); return 0; }
            int cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) { memcpy(d, (void *) (uintptr_t) s, n); return 0; }
            int cuMemcpyDtoD_v2(CUdeviceptr d, CUdeviceptr s, size_t n) { memmove((void *) (uintptr_t) d, (void *) (uintptr_t) s, n); return 0; }
            int cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, void *st) { return cuMemcpyHtoD_v2(d, s, n); }
            int cuMemcpyDtoHAsync_v2(void *d, CUdeviceptr s, size_t n, void *st) { return cuMemcpyDtoH_v2(d, s, n); }
            int cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr s, size_t n, void *st) { return cuMemcpyDtoD_v2(d, s, n); }
            int cuMemsetD8_v2(CUdeviceptr d, unsigned char v, size_t n) { memset((void *) (uintptr_t) d, v, n); return 0; }
            int cuMemsetD32_v2(CUdeviceptr d, unsigned v, size_t n) {
              unsigned *p = (unsigned *) (uintptr_t) d; for (size_t i = 0; i < n; i++) p[i] = v; return 0;
            }
            int cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, void *s) { return cuMemsetD8_v2(d, v, n); }
            int cuMemsetD32Async(CUdeviceptr d, unsigned v, size_t n, void *s) { return cuMemsetD32_v2(d, v, n); }
            int cuMemHostAlloc(void **p, size_t n, unsigned flags) { *p = aligned_alloc(4096, (n + 4095) / 4096 * 4096); return *p ? 0 : 2; }
            int cuMemFreeHost(void *p) { free(p); return 0; }
            int cuStreamCreate(void **s, unsigned flags) { *s = malloc(16); return 0; }
            int cuStreamDestroy_v2(void *s) { free(s); return 0; }
            int cuStreamSynchronize(void *s) { return 0; }
            int cuEventCreate(void **e, unsigned flags) { *e = malloc(16); return 0; }
            int cuEventRecord(void *e, void *s) { return 0; }
            int cuEventSynchronize(void *e) { return 0; }
            int cuEventElapsedTime_v2(float *ms, void *a, void *b) { *ms = 1.5f; return 0; }
            int cuEventDestroy_v2(void *e) { free(e); return 0; }
            int cuModuleLoadData(void **m, const void *image) {
              if (memcmp(image, "FAKE", 4) != 0) return 1; *m = malloc(16); return 0;
            }
            int cuModuleUnload(void *m) { free(m); return 0; }
            int cuModuleGetFunction(void **f, void *m, const char *name) {
              if (strcmp(name, "scale") != 0) return 500; *f = (void *) 0x5ca1e; return 0;
            }
            int cuFuncSetAttribute(void *f, int attr, int value) { func_attr[0] = attr; func_attr[1] = value; return 0; }
            int cuFuncGetAttribute(int *v, int attr, void *f) { *v = attr == 0 ? 1024 : 0; return 0; }
            struct ScaleParams { float *out; const float *in; int n; float scale; };
            int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                               unsigned shared, void *stream, void **params, void **extra) {
              if (f != (void *) 0x5ca1e || extra) return 1;
              launch[0] = gx; launch[1] = gy; launch[2] = gz; launch[3] = bx; launch[4] = by; launch[5] = bz;
              launch[6] = shared; launch[7] = (long long) (uintptr_t) stream; launch[8] = (long long) (uintptr_t) params[0];
              struct ScaleParams *p = (struct ScaleParams *) params[0];
              for (int i = 0; i < p->n; i++) p->out[i] = p->in[i] * p->scale;
              return 0;
            }
            int cuStreamBeginCapture_v2(void *s, int mode) { capture_mode = mode; return 0; }
            int cuStreamEndCapture(void *s, void **g) { *g = malloc(16); return 0; }
            int cuGraphInstantiateWithFlags(void **e, void *g, unsigned long long flags) { *e = malloc(16); return 0; }
            int cuGraphLaunch(void *e, void *s) { return 0; }
            int cuGraphExecDestroy(void *e) { free(e); return 0; }
            int cuGraphDestroy(void *g) { free(g); return 0; }
            """;

    static final String LIBCUBLASLT_C = """
            int cublasLtGetVersion(void) { return 120804; }
            """;

    static final String LIBCUBLAS_C = """
            #include <stdlib.h>
            #include <string.h>
            #include <stdint.h>
            int cublasLtGetVersion(void);
            static void *stream_set; static size_t workspace_bytes; static int math_mode = -1;
            void *fake_stream(void) { return stream_set; }
            size_t fake_workspace(void) { return workspace_bytes; }
            int fake_math_mode(void) { return math_mode; }
            int cublasCreate_v2(void **h) { *h = malloc(16); return 0; }
            int cublasDestroy_v2(void *h) { free(h); return 0; }
            int cublasSetStream_v2(void *h, void *s) { stream_set = s; return 0; }
            int cublasSetMathMode(void *h, int mode) { math_mode = mode; return 0; }
            int cublasSetWorkspace_v2(void *h, void *w, size_t n) { workspace_bytes = n; return 0; }
            int cublasGetVersion_v2(void *h, int *v) { *v = cublasLtGetVersion(); return 0; }
            static float get(const void *p, int type, long i) {
              if (type == 0) return ((const float *) p)[i];
              unsigned bits = ((const unsigned short *) p)[i]; bits <<= 16; float f; memcpy(&f, &bits, 4); return f;
            }
            static void put(void *p, int type, long i, float v) {
              if (type == 0) { ((float *) p)[i] = v; return; }
              unsigned bits; memcpy(&bits, &v, 4); bits += 0x7FFF + ((bits >> 16) & 1); ((unsigned short *) p)[i] = bits >> 16;
            }
            static int gemm(int ta, int tb, int m, int n, int k, const float *alpha, const void *A, int at, int lda,
                            const void *B, int bt, int ldb, const float *beta, void *C, int ct, int ldc, int compute, int algo) {
              if (compute != 68 || algo != -1) return 15;
              if ((at != 0 && at != 14) || at != bt || (ct != 0 && ct != 14)) return 15;
              if (m < 0 || n < 0 || k < 0 || lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m) return 7;
              for (int j = 0; j < n; j++) for (int i = 0; i < m; i++) {
                double s = 0;
                for (int l = 0; l < k; l++)
                  s += (double) get(A, at, ta ? l + (long) i * lda : i + (long) l * lda)
                     * get(B, bt, tb ? j + (long) l * ldb : l + (long) j * ldb);
                long c = i + (long) j * ldc;
                put(C, ct, c, (float) (*alpha * s + (*beta == 0 ? 0 : *beta * get(C, ct, c))));
              }
              return 0;
            }
            int cublasGemmEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *A, int at, int lda,
                             const void *B, int bt, int ldb, const void *beta, void *C, int ct, int ldc, int compute, int algo) {
              return gemm(ta, tb, m, n, k, alpha, A, at, lda, B, bt, ldb, beta, C, ct, ldc, compute, algo);
            }
            int cublasGemmStridedBatchedEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha,
                                           const void *A, int at, int lda, long long sa, const void *B, int bt, int ldb, long long sb,
                                           const void *beta, void *C, int ct, int ldc, long long sc, int batch, int compute, int algo) {
              int ea = at == 0 ? 4 : 2, eb = bt == 0 ? 4 : 2, ec = ct == 0 ? 4 : 2;
              for (int b = 0; b < batch; b++) {
                int r = gemm(ta, tb, m, n, k, alpha, (const char *) A + b * sa * ea, at, lda, (const char *) B + b * sb * eb,
                             bt, ldb, beta, (char *) C + b * sc * ec, ct, ldc, compute, algo);
                if (r) return r;
              }
              return 0;
            }
            static int grouped_calls, grouped_groups, grouped_problems;
            int fake_grouped_calls(void) { return grouped_calls; }
            int fake_grouped_problems(void) { return grouped_problems; }
            int cublasGemmGroupedBatchedEx(void *h, const int *ta, const int *tb, const int *m, const int *n, const int *k,
                                           const void *alpha, const void *const *A, int at, const int *lda,
                                           const void *const *B, int bt, const int *ldb, const void *beta,
                                           void *const *C, int ct, const int *ldc, int groups, const int *size, int compute) {
              grouped_calls++; grouped_groups = groups; grouped_problems = 0;
              for (int g = 0, p = 0; g < groups; g++)
                for (int i = 0; i < size[g]; i++, p++) {
                  int r = gemm(ta[g], tb[g], m[g], n[g], k[g], (const float *) alpha + g, A[p], at, lda[g], B[p], bt, ldb[g],
                               (const float *) beta + g, C[p], ct, ldc[g], compute, -1);
                  if (r) return r;
                  grouped_problems++;
                }
              return 0;
            }
            """;

    private static Path dir;
    private static String unavailable;

    private FakeCuda() {
    }

    /** Whether the fake libraries could be built here (a C compiler is needed). */
    public static synchronized boolean available() {
        if (dir == null && unavailable == null) {
            try {
                dir = build();
            } catch (IOException | InterruptedException e) {
                unavailable = e.getMessage();
            }
        }
        return dir != null;
    }

    /** The folder holding libcuda.so.1, libcublas.so.12 and libcublasLt.so.12. */
    public static Path dir() {
        if (!available()) {
            throw new IllegalStateException("fake CUDA libraries unavailable: " + unavailable);
        }
        return dir;
    }

    public static Path libcuda() {
        return dir().resolve("libcuda.so.1");
    }

    public static Path libcublas() {
        return dir().resolve("libcublas.so.12");
    }

    public static Path libcublasLt() {
        return dir().resolve("libcublasLt.so.12");
    }

    private static Path build() throws IOException, InterruptedException {
        Path out = Files.createTempDirectory("latentserve-fake-cuda");
        out.toFile().deleteOnExit();
        Files.writeString(out.resolve("cuda.c"), LIBCUDA_C);
        Files.writeString(out.resolve("lt.c"), LIBCUBLASLT_C);
        Files.writeString(out.resolve("cublas.c"), LIBCUBLAS_C);
        cc(out, "-shared", "-fPIC", "-O1", "-o", "libcuda.so.1", "-Wl,-soname,libfakecuda.so.1", "cuda.c");
        cc(out, "-shared", "-fPIC", "-O1", "-o", "libcublasLt.so.12", "-Wl,-soname,libfakecublasLt.so.12", "lt.c");
        cc(out, "-shared", "-fPIC", "-O1", "-o", "libcublas.so.12", "-Wl,-soname,libfakecublas.so.12", "cublas.c",
                "-L.", "-l:libcublasLt.so.12");
        return out;
    }

    private static void cc(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("cc");
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("cc " + String.join(" ", args) + " failed: " + output);
        }
    }

    /** A function exported by one of the fake libraries (which are loaded by then), for test-only hooks. */
    public static MethodHandle hook(Path library, String name, FunctionDescriptor descriptor) {
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
        Optional<MemorySegment> symbol = lookup.find(name);
        return Linker.nativeLinker().downcallHandle(symbol.orElseThrow(), descriptor);
    }

    /** Sets what cuInit returns, the device count and the compute capability of the fake GPU. */
    public static void configure(int initResult, int deviceCount, int major, int minor) {
        try {
            hook(libcuda(), "fake_configure", FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT))
                    .invokeExact(initResult, deviceCount, major, minor);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static final FunctionDescriptor RETURNS_INT = FunctionDescriptor.of(JAVA_INT);
    static final FunctionDescriptor TAKES_POINTER = FunctionDescriptor.ofVoid(ADDRESS);
}

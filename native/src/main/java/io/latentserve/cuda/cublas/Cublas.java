package io.latentserve.cuda.cublas;

import io.latentserve.cuda.driver.CudaDriver;
import io.latentserve.cuda.driver.CudaLibraries;
import io.latentserve.cuda.driver.CudaUnavailableException;
import io.latentserve.cuda.driver.LibraryLookup;
import io.latentserve.cuda.driver.Probe;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hand-written FFM bindings to cuBLAS (libcublas.so.12/13), in jextract's shape for cublas_api.h and
 * library_types.h, limited to the dense GEMMs of the CUDA backend. Handles (cublasHandle_t) and streams
 * (cudaStream_t, the same object as a driver CUstream) are {@link MemorySegment} addresses; device
 * matrices are {@code long} device addresses.
 *
 * <p>No cuBLAS headers exist on the build machine, so the enum values below were checked against NVIDIA's
 * published cuBLAS / library_types documentation. Every status goes through {@link #check} and becomes a
 * {@link CublasException} naming the call and the CUBLAS_STATUS_* value.
 *
 * <p>Alpha and beta are passed as host floats (the default CUBLAS_POINTER_MODE_HOST): cuBLAS reads them
 * before the call returns, so one per-thread scratch holds them and GEMMs allocate nothing, which keeps
 * them usable on the decode hot path and inside stream capture (together with {@link #setWorkspace}).
 */
@SuppressWarnings("restricted") // FFM downcalls are this class's purpose; the server runs with --enable-native-access
public final class Cublas {
    // cublasOperation_t
    public static final int CUBLAS_OP_N = 0;
    public static final int CUBLAS_OP_T = 1;
    // cudaDataType_t (library_types.h)
    public static final int CUDA_R_32F = 0;
    public static final int CUDA_R_16F = 2;
    public static final int CUDA_R_16BF = 14;
    // cublasComputeType_t
    public static final int CUBLAS_COMPUTE_32F = 68;
    public static final int CUBLAS_COMPUTE_32F_PEDANTIC = 69;
    public static final int CUBLAS_COMPUTE_32F_FAST_16BF = 75;
    public static final int CUBLAS_COMPUTE_32F_FAST_TF32 = 77;
    // cublasGemmAlgo_t
    public static final int CUBLAS_GEMM_DEFAULT = -1;
    // cublasMath_t
    public static final int CUBLAS_DEFAULT_MATH = 0;
    public static final int CUBLAS_PEDANTIC_MATH = 2;
    public static final int CUBLAS_TF32_TENSOR_OP_MATH = 3;
    public static final int CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION = 16;
    // cublasStatus_t
    public static final int CUBLAS_STATUS_SUCCESS = 0;

    /** cuBLAS's advice for Hopper: 32 MiB of workspace (4 MiB is enough before sm_90). */
    public static final long RECOMMENDED_WORKSPACE_BYTES = 32L << 20;

    /** alpha at offset 0, beta at 4; reused per thread because cuBLAS reads host scalars during the call. */
    private static final ThreadLocal<MemorySegment> SCALARS = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(8, 8));

    private final String library;
    private final MethodHandle cublasCreate;
    private final MethodHandle cublasDestroy;
    private final MethodHandle cublasSetStream;
    private final MethodHandle cublasSetMathMode;
    private final MethodHandle cublasSetWorkspace;
    private final MethodHandle cublasGetVersion;
    private final MethodHandle cublasGemmEx;
    private final MethodHandle cublasGemmStridedBatchedEx;
    /** Null when the library predates cuBLAS 12.5: the grouped MoE path is then unavailable. */
    private final MethodHandle cublasGemmGroupedBatchedEx;

    private Cublas(SymbolLookup lookup, String library) {
        this.library = library;
        CudaDriver.Binder b = new CudaDriver.Binder(lookup, library);
        cublasCreate = b.bind("cublasCreate_v2", JAVA_INT, ADDRESS);
        cublasDestroy = b.bind("cublasDestroy_v2", JAVA_INT, ADDRESS);
        cublasSetStream = b.bind("cublasSetStream_v2", JAVA_INT, ADDRESS, ADDRESS);
        cublasSetMathMode = b.bind("cublasSetMathMode", JAVA_INT, ADDRESS, JAVA_INT);
        cublasSetWorkspace = b.bind("cublasSetWorkspace_v2", JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG);
        cublasGetVersion = b.bind("cublasGetVersion_v2", JAVA_INT, ADDRESS, ADDRESS);
        cublasGemmEx = b.bind("cublasGemmEx", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT);
        cublasGemmStridedBatchedEx = b.bind("cublasGemmStridedBatchedEx", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG,
                JAVA_INT, JAVA_INT, JAVA_INT);
        cublasGemmGroupedBatchedEx = !b.has("cublasGemmGroupedBatchedEx") ? null
                : b.bind("cublasGemmGroupedBatchedEx", JAVA_INT, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, JAVA_INT, ADDRESS,
                ADDRESS, JAVA_INT, ADDRESS,
                ADDRESS, ADDRESS, JAVA_INT, ADDRESS,
                JAVA_INT, ADDRESS, JAVA_INT);
    }

    // ---- loading ----

    /**
     * Loads cuBLAS. libcublas needs libcublasLt of the same version; loading that first, by path, lets the
     * dynamic linker satisfy libcublas's dependency from the already-loaded copy even when the folder is on
     * no search path (the case of pip's nvidia wheels). Both stay loaded for the life of the process.
     */
    public static Cublas load(Path libcublas, Optional<Path> libcublasLt) {
        CudaLibraries.requireSharedLibrary(libcublas, "cuBLAS");
        if (libcublasLt.isPresent()) {
            CudaLibraries.requireSharedLibrary(libcublasLt.get(), "cuBLASLt");
            try {
                SymbolLookup.libraryLookup(libcublasLt.get(), Arena.global());
            } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
                throw new CudaUnavailableException("could not load cuBLASLt " + libcublasLt.get() + ": " + e.getMessage(), e);
            }
        }
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(libcublas, Arena.global());
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            throw new CudaUnavailableException("could not load cuBLAS " + libcublas + ": " + e.getMessage()
                    + (libcublasLt.isEmpty() ? " (no libcublasLt was found to load first)" : ""), e);
        }
        return new Cublas(lookup, libcublas.toString());
    }

    /** Finds and loads cuBLAS as the server does (-Dlatentserve.cublas.lib, LATENTSERVE_LIBCUBLAS, standard folders). */
    public static Probe<Cublas> tryLoad() {
        Map<String, String> env = System.getenv();
        return tryLoad(CudaLibraries.find(CudaLibraries.CUBLAS), env);
    }

    public static Probe<Cublas> tryLoad(LibraryLookup cublas, Map<String, String> env) {
        if (!cublas.found()) {
            return Probe.failed(cublas.describeFailure());
        }
        Path path = cublas.path().get();
        LibraryLookup lt = CudaLibraries.findCublasLtFor(path, env, CudaLibraries.explicitPath(CudaLibraries.CUBLAS_LT));
        try {
            return Probe.ok(load(path, lt.path()));
        } catch (CudaUnavailableException e) {
            return Probe.failed(e.getMessage() + (lt.found() ? "" : "; " + lt.describeFailure()));
        }
    }

    public String library() {
        return library;
    }

    /** Throws a {@link CublasException} naming {@code call} unless the status is CUBLAS_STATUS_SUCCESS. */
    public static void check(int status, String call) {
        if (status != CUBLAS_STATUS_SUCCESS) {
            throw new CublasException(call, status);
        }
    }

    // ---- handles ----

    // cublasStatus_t cublasCreate_v2(cublasHandle_t *handle);
    /** A new handle, bound to the device of the calling thread's current context. */
    public MemorySegment create() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) cublasCreate.invokeExact(out);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cublasCreate_v2");
            return out.get(ADDRESS, 0);
        }
    }

    // cublasStatus_t cublasDestroy_v2(cublasHandle_t handle);
    public void destroy(MemorySegment handle) {
        int status;
        try {
            status = (int) cublasDestroy.invokeExact(handle);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cublasDestroy_v2");
    }

    // cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId);
    public void setStream(MemorySegment handle, MemorySegment stream) {
        int status;
        try {
            status = (int) cublasSetStream.invokeExact(handle, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cublasSetStream_v2");
    }

    public void setStream(MemorySegment handle, long stream) {
        setStream(handle, MemorySegment.ofAddress(stream));
    }

    // cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode);
    public void setMathMode(MemorySegment handle, int mode) {
        int status;
        try {
            status = (int) cublasSetMathMode.invokeExact(handle, mode);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cublasSetMathMode");
    }

    // cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void *workspace, size_t workspaceSizeInBytes);
    /**
     * Gives cuBLAS a workspace of ours. Without it cuBLAS allocates its own on first use, which is not
     * allowed while a stream is being captured into a graph; set it (after setStream) before capturing.
     */
    public void setWorkspace(MemorySegment handle, long workspace, long bytes) {
        int status;
        try {
            status = (int) cublasSetWorkspace.invokeExact(handle, MemorySegment.ofAddress(workspace), bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cublasSetWorkspace_v2");
    }

    // cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int *version);
    /** e.g. 120804 for cuBLAS 12.8.4. */
    public int version(MemorySegment handle) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int status;
            try {
                status = (int) cublasGetVersion.invokeExact(handle, out);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cublasGetVersion_v2");
            return out.get(JAVA_INT, 0);
        }
    }

    // ---- GEMM (column-major, as cuBLAS sees it) ----

    // cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
    //                             int m, int n, int k, const void *alpha,
    //                             const void *A, cudaDataType Atype, int lda,
    //                             const void *B, cudaDataType Btype, int ldb,
    //                             const void *beta, void *C, cudaDataType Ctype, int ldc,
    //                             cublasComputeType_t computeType, cublasGemmAlgo_t algo);
    /**
     * C[m,n] = alpha · op(A)[m,k] · op(B)[k,n] + beta · C, all column-major. alpha and beta are floats, so
     * computeType must be one of the CUBLAS_COMPUTE_32F* types.
     */
    public void gemmEx(MemorySegment handle, int transa, int transb, int m, int n, int k, float alpha,
                       long a, int aType, int lda, long b, int bType, int ldb, float beta,
                       long c, int cType, int ldc, int computeType, int algo) {
        requireFloatScalars(computeType);
        MemorySegment scalars = scalars(alpha, beta);
        int status;
        try {
            status = (int) cublasGemmEx.invokeExact(handle, transa, transb, m, n, k, scalars,
                    MemorySegment.ofAddress(a), aType, lda, MemorySegment.ofAddress(b), bType, ldb,
                    scalars.asSlice(4), MemorySegment.ofAddress(c), cType, ldc, computeType, algo);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (status != CUBLAS_STATUS_SUCCESS) {
            throw new CublasException("cublasGemmEx", status, describe(transa, transb, m, n, k, aType, lda, bType, ldb,
                    cType, ldc, computeType));
        }
    }

    // cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle,
    //                             cublasOperation_t transa, cublasOperation_t transb,
    //                             int m, int n, int k, const void *alpha,
    //                             const void *A, cudaDataType Atype, int lda, long long int strideA,
    //                             const void *B, cudaDataType Btype, int ldb, long long int strideB,
    //                             const void *beta, void *C, cudaDataType Ctype, int ldc, long long int strideC,
    //                             int batchCount, cublasComputeType_t computeType, cublasGemmAlgo_t algo);
    /** batchCount independent GEMMs; matrix i of A starts strideA elements after matrix i-1 (same for B, C). */
    public void gemmStridedBatchedEx(MemorySegment handle, int transa, int transb, int m, int n, int k, float alpha,
                                     long a, int aType, int lda, long strideA,
                                     long b, int bType, int ldb, long strideB, float beta,
                                     long c, int cType, int ldc, long strideC,
                                     int batchCount, int computeType, int algo) {
        requireFloatScalars(computeType);
        MemorySegment scalars = scalars(alpha, beta);
        int status;
        try {
            status = (int) cublasGemmStridedBatchedEx.invokeExact(handle, transa, transb, m, n, k, scalars,
                    MemorySegment.ofAddress(a), aType, lda, strideA, MemorySegment.ofAddress(b), bType, ldb, strideB,
                    scalars.asSlice(4), MemorySegment.ofAddress(c), cType, ldc, strideC,
                    batchCount, computeType, algo);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (status != CUBLAS_STATUS_SUCCESS) {
            throw new CublasException("cublasGemmStridedBatchedEx", status,
                    describe(transa, transb, m, n, k, aType, lda, bType, ldb, cType, ldc, computeType)
                            + ", batch " + batchCount);
        }
    }

    /** Whether the library exports cublasGemmGroupedBatchedEx (cuBLAS 12.5 and newer). */
    public boolean hasGroupedGemm() {
        return cublasGemmGroupedBatchedEx != null;
    }

    // cublasStatus_t cublasGemmGroupedBatchedEx(cublasHandle_t handle,
    //                             const cublasOperation_t transa_array[], const cublasOperation_t transb_array[],
    //                             const int m_array[], const int n_array[], const int k_array[],
    //                             const void *alpha_array, const void *const Aarray[], cudaDataType_t Atype,
    //                             const int lda_array[], const void *const Barray[], cudaDataType_t Btype,
    //                             const int ldb_array[], const void *beta_array, void *const Carray[],
    //                             cudaDataType_t Ctype, const int ldc_array[], int group_count,
    //                             const int group_size[], cublasComputeType_t computeType);
    /**
     * group_count groups of GEMMs, group g being group_size[g] problems C = alpha_g · op(A) · op(B) + beta_g · C
     * of one shape (column-major). The per-group arrays (ops, sizes, leading dimensions, group sizes, float
     * alpha/beta: CUBLAS_POINTER_MODE_HOST) are HOST arrays, copied here into memory of this call (cuBLAS
     * reads them before returning); aArray, bArray and cArray are DEVICE arrays of Σ group_size device
     * addresses, problems of group 0 first. No algorithm argument: cuBLAS picks one per call.
     */
    public void gemmGroupedBatchedEx(MemorySegment handle, int[] transa, int[] transb, int[] m, int[] n, int[] k,
                                     float[] alpha, long aArray, int aType, int[] lda, long bArray, int bType,
                                     int[] ldb, float[] beta, long cArray, int cType, int[] ldc, int[] groupSize,
                                     int computeType) {
        if (cublasGemmGroupedBatchedEx == null) {
            throw new UnsupportedOperationException(library + " does not export cublasGemmGroupedBatchedEx"
                    + " (cuBLAS 12.5 or newer has it)");
        }
        requireFloatScalars(computeType);
        int groups = groupSize.length;
        for (Object a : new Object[]{transa, transb, m, n, k, lda, ldb, ldc}) {
            if (((int[]) a).length != groups) {
                throw new IllegalArgumentException("every per-group array needs " + groups + " entries");
            }
        }
        if (alpha.length != groups || beta.length != groups || groups < 1) {
            throw new IllegalArgumentException("alpha/beta need " + groups + " entries, and at least one group");
        }
        int status;
        try (Arena arena = Arena.ofConfined()) {
            status = (int) cublasGemmGroupedBatchedEx.invokeExact(handle,
                    arena.allocateFrom(JAVA_INT, transa), arena.allocateFrom(JAVA_INT, transb),
                    arena.allocateFrom(JAVA_INT, m), arena.allocateFrom(JAVA_INT, n), arena.allocateFrom(JAVA_INT, k),
                    arena.allocateFrom(JAVA_FLOAT, alpha), MemorySegment.ofAddress(aArray), aType,
                    arena.allocateFrom(JAVA_INT, lda), MemorySegment.ofAddress(bArray), bType,
                    arena.allocateFrom(JAVA_INT, ldb), arena.allocateFrom(JAVA_FLOAT, beta),
                    MemorySegment.ofAddress(cArray), cType, arena.allocateFrom(JAVA_INT, ldc), groups,
                    arena.allocateFrom(JAVA_INT, groupSize), computeType);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (status != CUBLAS_STATUS_SUCCESS) {
            throw new CublasException("cublasGemmGroupedBatchedEx", status, groups + " groups, first: "
                    + describe(transa[0], transb[0], m[0], n[0], k[0], aType, lda[0], bType, ldb[0], cType, ldc[0],
                    computeType));
        }
    }

    // ---- row-major helpers ----

    /**
     * Runs a {@link GroupedGemmPlan} (row-major problems) as one cublasGemmGroupedBatchedEx in f32 compute.
     * aArray/bArray/cArray are the device copies of the plan's {@link GroupedGemmPlan#cublasA()},
     * {@link GroupedGemmPlan#cublasB()} and {@link GroupedGemmPlan#c()}; types as for {@link #rowMajorGemm}.
     */
    public void rowMajorGemmGroupedBatched(MemorySegment handle, GroupedGemmPlan plan, int aType, int bType, int cType,
                                           long aArray, long bArray, long cArray) {
        GemmTypes.check(aType, bType, cType);
        int[] opN = new int[plan.groupCount()];  // CUBLAS_OP_N == 0: our A is never transposed
        gemmGroupedBatchedEx(handle, plan.transa(), opN, plan.m(), plan.n(), plan.k(), plan.alpha(),
                aArray, bType, plan.lda(), bArray, aType, plan.ldb(), plan.beta(), cArray, cType, plan.ldc(),
                plan.groupSize(), CUBLAS_COMPUTE_32F);
    }


    /**
     * out[T,N] = x[T,K] · w[N,K]ᵀ + beta · out, the y = x·Wᵀ of every linear layer, with all three matrices
     * row-major and densely packed; compute in f32. See {@link #rowMajorGemm} for the mapping onto cuBLAS and
     * {@link GemmTypes} for the type combinations cuBLAS accepts:
     * <ul>
     *   <li>x bf16, w bf16, out f32 - the usual case: bf16 weights as stored, f32 result;</li>
     *   <li>x bf16, w bf16, out bf16;</li>
     *   <li>x f16, w f16, out f16 or f32;</li>
     *   <li>x f32, w f32, out f32 (weights widened to f32 beforehand).</li>
     * </ul>
     * f32 activations with bf16 weights are NOT a cuBLAS combination (A and B must share a type): convert the
     * activations to bf16 first with a cast kernel (what most servers do) or keep an f32 copy of the weight.
     */
    public void rowMajorMatmul(MemorySegment handle, int rows, int outFeatures, int inFeatures,
                               long x, int xType, long w, int wType, long out, int outType, float beta) {
        rowMajorGemm(handle, true, rows, outFeatures, inFeatures, 1f,
                x, xType, inFeatures, w, wType, inFeatures, beta, out, outType, outFeatures);
    }

    /**
     * C[M,N] = alpha · A[M,K] · op(B) + beta · C, row-major with leading dimensions (elements between rows,
     * so column slices of wider buffers work), op(B) = Bᵀ with B stored [N,K] when {@code transposeB}, else B
     * stored [K,N]. Computed in f32 (CUBLAS_COMPUTE_32F, default algorithm).
     *
     * <p>Mapping: a row-major [R,C] matrix with leading dimension ld is, to column-major cuBLAS, the [C,R]
     * matrix with the same ld, i.e. its transpose. So cuBLAS computes Cᵀ[N,M] = op(B)ᵀ · Aᵀ:
     * cuBLAS's A is our B (transa = T when B is [N,K], i.e. W·Xᵀ for linear layers; N when B is [K,N]),
     * cuBLAS's B is our A untransposed (transb = N, ldb = lda), m = N, n = M, k = K, ldc = ldc.
     */
    public void rowMajorGemm(MemorySegment handle, boolean transposeB, int m, int n, int k, float alpha,
                             long a, int aType, int lda, long b, int bType, int ldb, float beta,
                             long c, int cType, int ldc) {
        GemmTypes.check(aType, bType, cType);
        GemmTypes.checkShape(transposeB, m, n, k, lda, ldb, ldc);
        gemmEx(handle, transposeB ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, alpha,
                b, bType, ldb, a, aType, lda, beta, c, cType, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    }

    /**
     * {@link #rowMajorGemm} for {@code batch} matrices spaced by the given strides (in elements), e.g. one
     * GEMM per attention head: C_i[M,N] = alpha · A_i[M,K] · op(B_i) + beta · C_i.
     */
    public void rowMajorGemmStridedBatched(MemorySegment handle, boolean transposeB, int m, int n, int k, float alpha,
                                           long a, int aType, int lda, long strideA,
                                           long b, int bType, int ldb, long strideB, float beta,
                                           long c, int cType, int ldc, long strideC, int batch) {
        GemmTypes.check(aType, bType, cType);
        GemmTypes.checkShape(transposeB, m, n, k, lda, ldb, ldc);
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        gemmStridedBatchedEx(handle, transposeB ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, alpha,
                b, bType, ldb, strideB, a, aType, lda, strideA, beta, c, cType, ldc, strideC,
                batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    }

    // ---- helpers ----

    private static MemorySegment scalars(float alpha, float beta) {
        MemorySegment s = SCALARS.get();
        s.set(JAVA_FLOAT, 0, alpha);
        s.set(JAVA_FLOAT, 4, beta);
        return s;
    }

    private static void requireFloatScalars(int computeType) {
        if (computeType != CUBLAS_COMPUTE_32F && computeType != CUBLAS_COMPUTE_32F_PEDANTIC
                && computeType != CUBLAS_COMPUTE_32F_FAST_16BF && computeType != CUBLAS_COMPUTE_32F_FAST_TF32) {
            throw new IllegalArgumentException("alpha/beta are passed as floats, so computeType must be a"
                    + " CUBLAS_COMPUTE_32F* type, got " + computeType);
        }
    }

    private static String describe(int transa, int transb, int m, int n, int k, int aType, int lda, int bType,
                                   int ldb, int cType, int ldc, int computeType) {
        return "op " + (transa == CUBLAS_OP_T ? "T" : "N") + (transb == CUBLAS_OP_T ? "T" : "N")
                + ", m=" + m + " n=" + n + " k=" + k
                + ", A " + GemmTypes.name(aType) + " lda=" + lda
                + ", B " + GemmTypes.name(bType) + " ldb=" + ldb
                + ", C " + GemmTypes.name(cType) + " ldc=" + ldc + ", compute " + computeType;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}

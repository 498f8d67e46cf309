package io.latentserve.cuda.cublas;

import io.latentserve.cuda.driver.CudaDriver;
import io.latentserve.cuda.driver.CudaLibraries;
import io.latentserve.cuda.driver.FakeCuda;
import io.latentserve.cuda.driver.GpuFixture;
import io.latentserve.cuda.driver.LibraryLookup;
import io.latentserve.cuda.driver.Probe;
import io.latentserve.cuda.driver.SearchPath;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static io.latentserve.cuda.cublas.Cublas.CUDA_R_16BF;
import static io.latentserve.cuda.cublas.Cublas.CUDA_R_32F;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * cuBLAS bindings against {@link FakeCuda}'s stand-in (a naive column-major GEMM on host memory): checks
 * that the row-major helpers hand cuBLAS the right transposes, sizes and leading dimensions, with no GPU.
 */
class CublasFakeTest {
    static CudaDriver driver;
    static Cublas cublas;
    static MemorySegment handle;

    @BeforeAll
    static void load() {
        assumeTrue(FakeCuda.available(), "no C compiler to build the fake CUDA libraries");
        driver = CudaDriver.load(FakeCuda.libcuda());
        LibraryLookup lookup = CudaLibraries.find("cublas", Map.of(), Optional.empty(), SearchPath.of(FakeCuda.dir()));
        Probe<Cublas> probe = Cublas.tryLoad(lookup, Map.of());
        cublas = probe.orElseThrow();
        handle = cublas.create();
    }

    @Test
    void setupCallsReachTheLibrary() throws Throwable {
        assertEquals(120804, cublas.version(handle), "libcublas called into the cuBLASLt loaded before it");
        cublas.setStream(handle, 0xabcdef0L);
        cublas.setWorkspace(handle, driver.memAlloc(1024), 1024);
        cublas.setMathMode(handle, Cublas.CUBLAS_DEFAULT_MATH);
        MemorySegment stream = (MemorySegment) FakeCuda.hook(FakeCuda.libcublas(), "fake_stream",
                FunctionDescriptor.of(ADDRESS)).invokeExact();
        long workspace = (long) FakeCuda.hook(FakeCuda.libcublas(), "fake_workspace",
                FunctionDescriptor.of(JAVA_LONG)).invokeExact();
        int mode = (int) FakeCuda.hook(FakeCuda.libcublas(), "fake_math_mode", FunctionDescriptor.of(JAVA_INT)).invokeExact();
        assertEquals(0xabcdef0L, stream.address());
        assertEquals(1024, workspace);
        assertEquals(0, mode);
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = GpuFixture.roundBf16(r.nextFloat() * 2 - 1);
        }
        return a;
    }

    private static long upload(float[] values, int type) {
        long d = driver.memAlloc(4L * values.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(4L * values.length);
            for (int i = 0; i < values.length; i++) {
                if (type == CUDA_R_32F) {
                    host.setAtIndex(JAVA_FLOAT, i, values[i]);
                } else {
                    host.setAtIndex(JAVA_SHORT, i, GpuFixture.toBf16(values[i]));
                }
            }
            driver.memcpyHtoD(d, host, host.byteSize());
        }
        return d;
    }

    private static float[] download(long d, int count, int type) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(4L * count);
            driver.memcpyDtoH(host, d, host.byteSize());
            float[] out = new float[count];
            for (int i = 0; i < count; i++) {
                out[i] = type == CUDA_R_32F ? host.getAtIndex(JAVA_FLOAT, i) : GpuFixture.fromBf16(host.getAtIndex(JAVA_SHORT, i));
            }
            return out;
        }
    }

    /** Row-major C[M,N] = A[M,K] · op(B), op(B) = Bᵀ for B [N,K] or B for B [K,N], with leading dimensions. */
    private static float[] reference(boolean transposeB, int m, int n, int k, float[] a, int aOff, int lda,
                                     float[] b, int ldb) {
        float[] c = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int l = 0; l < k; l++) {
                    s += (double) a[aOff + i * lda + l] * (transposeB ? b[j * ldb + l] : b[l * ldb + j]);
                }
                c[i * n + j] = (float) s;
            }
        }
        return c;
    }

    private static void assertClose(float[] expected, float[] actual, double tol) {
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol * Math.max(1, Math.abs(expected[i])),
                    "element " + i + ": " + expected[i] + " vs " + actual[i] + " in " + Arrays.toString(actual));
        }
    }

    @Test
    void rowMajorMatmulIsXTimesWTransposed() {
        int t = 3, n = 5, k = 7;
        float[] x = random(t * k, 1);
        float[] w = random(n * k, 2);
        long dx = upload(x, CUDA_R_16BF);
        long dw = upload(w, CUDA_R_16BF);
        long out = driver.memAlloc(4L * t * n);

        cublas.rowMajorMatmul(handle, t, n, k, dx, CUDA_R_16BF, dw, CUDA_R_16BF, out, CUDA_R_32F, 0f);

        assertClose(reference(true, t, n, k, x, 0, k, w, k), download(out, t * n, CUDA_R_32F), 1e-6);
        cublas.rowMajorMatmul(handle, t, n, k, dx, CUDA_R_16BF, dw, CUDA_R_16BF, out, CUDA_R_16BF, 0f);
        float[] bf16 = download(out, t * n, CUDA_R_16BF);
        assertClose(reference(true, t, n, k, x, 0, k, w, k), bf16, 1e-2);
    }

    @Test
    void betaAccumulatesAndSlicesUseTheLeadingDimension() {
        int t = 2, n = 3, k = 4, width = 10, offset = 5;
        float[] x = random(t * width, 3);
        float[] w = random(n * k, 4);
        float[] start = {1, 2, 3, 4, 5, 6};
        long dx = upload(x, CUDA_R_32F);
        long dw = upload(w, CUDA_R_32F);
        long out = upload(start, CUDA_R_32F);

        cublas.rowMajorGemm(handle, true, t, n, k, 2f, dx + 4L * offset, CUDA_R_32F, width, dw, CUDA_R_32F, k,
                1f, out, CUDA_R_32F, n);

        float[] expected = reference(true, t, n, k, x, offset, width, w, k);
        for (int i = 0; i < expected.length; i++) {
            expected[i] = 2 * expected[i] + start[i];
        }
        assertClose(expected, download(out, t * n, CUDA_R_32F), 1e-6);
    }

    @Test
    void untransposedBAndStridedBatches() {
        int m = 3, n = 4, k = 5, batch = 3;
        float[] a = random(batch * m * k, 5);
        float[] b = random(batch * k * n, 6);
        long da = upload(a, CUDA_R_32F);
        long db = upload(b, CUDA_R_32F);
        long dc = driver.memAlloc(4L * batch * m * n);

        cublas.rowMajorGemm(handle, false, m, n, k, 1f, da, CUDA_R_32F, k, db, CUDA_R_32F, n, 0f, dc, CUDA_R_32F, n);
        assertClose(reference(false, m, n, k, a, 0, k, b, n), download(dc, m * n, CUDA_R_32F), 1e-6);

        cublas.rowMajorGemmStridedBatched(handle, false, m, n, k, 1f, da, CUDA_R_32F, k, (long) m * k,
                db, CUDA_R_32F, n, (long) k * n, 0f, dc, CUDA_R_32F, n, (long) m * n, batch);
        float[] all = download(dc, batch * m * n, CUDA_R_32F);
        for (int h = 0; h < batch; h++) {
            float[] ah = Arrays.copyOfRange(a, h * m * k, (h + 1) * m * k);
            float[] bh = Arrays.copyOfRange(b, h * k * n, (h + 1) * k * n);
            assertClose(reference(false, m, n, k, ah, 0, k, bh, n), Arrays.copyOfRange(all, h * m * n, (h + 1) * m * n), 1e-6);
        }
    }

    private static long uploadLongs(long[] values) {
        long d = driver.memAlloc(8L * values.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocateFrom(JAVA_LONG, values);
            driver.memcpyHtoD(d, host, host.byteSize());
        }
        return d;
    }

    /**
     * Two groups of row-major y = x·Wᵀ problems of different sizes, one with two problems sharing a weight and
     * writing column slices of a wider output (ldc > N), one with alpha 2 and beta 1 on a single problem: the
     * plan must hand cuBLAS the swapped operands, m/n, leading dimensions and group sizes per group.
     */
    @Test
    void groupedBatchedGemmMapsRowMajorGroups() throws Throwable {
        assertTrue(cublas.hasGroupedGemm());
        int t1 = 3, n1 = 4, k1 = 5, t2 = 2, n2 = 3, k2 = 6, ldc1 = 2 * n1;
        float[] xa = random(t1 * k1, 7);
        float[] xb = random(t1 * k1, 8);
        float[] w1 = random(n1 * k1, 9);
        float[] x2 = random(t2 * k2, 10);
        float[] w2 = random(n2 * k2, 11);
        float[] start2 = random(t2 * n2, 12);
        long dxa = upload(xa, CUDA_R_16BF);
        long dxb = upload(xb, CUDA_R_16BF);
        long dw1 = upload(w1, CUDA_R_16BF);
        long dx2 = upload(x2, CUDA_R_16BF);
        long dw2 = upload(w2, CUDA_R_16BF);
        long c1 = driver.memAlloc(4L * t1 * ldc1);
        long c2 = upload(start2, CUDA_R_32F);
        GroupedGemmPlan plan = new GroupedGemmPlan()
                .add(true, t1, n1, k1, 1f, new long[]{dxa, dxb}, k1, new long[]{dw1, dw1}, k1, 0f,
                        new long[]{c1, c1 + 4L * n1}, ldc1)
                .add(true, t2, n2, k2, 2f, new long[]{dx2}, k2, new long[]{dw2}, k2, 1f, new long[]{c2}, n2);
        assertEquals(2, plan.groupCount());
        assertEquals(3, plan.problemCount());
        assertEquals(dw1, plan.cublasA()[0], "cuBLAS's A is the weight");
        assertEquals(dxb, plan.cublasB()[1], "cuBLAS's B is the activation");

        cublas.rowMajorGemmGroupedBatched(handle, plan, CUDA_R_16BF, CUDA_R_16BF, CUDA_R_32F,
                uploadLongs(plan.cublasA()), uploadLongs(plan.cublasB()), uploadLongs(plan.c()));

        int problems = (int) FakeCuda.hook(FakeCuda.libcublas(), "fake_grouped_problems",
                FunctionDescriptor.of(JAVA_INT)).invokeExact();
        assertEquals(3, problems);
        float[] out1 = download(c1, t1 * ldc1, CUDA_R_32F);
        float[] ya = reference(true, t1, n1, k1, xa, 0, k1, w1, k1);
        float[] yb = reference(true, t1, n1, k1, xb, 0, k1, w1, k1);
        for (int i = 0; i < t1; i++) {
            assertClose(Arrays.copyOfRange(ya, i * n1, (i + 1) * n1), Arrays.copyOfRange(out1, i * ldc1, i * ldc1 + n1), 1e-6);
            assertClose(Arrays.copyOfRange(yb, i * n1, (i + 1) * n1), Arrays.copyOfRange(out1, i * ldc1 + n1, (i + 1) * ldc1), 1e-6);
        }
        float[] y2 = reference(true, t2, n2, k2, x2, 0, k2, w2, k2);
        for (int i = 0; i < y2.length; i++) {
            y2[i] = 2 * y2[i] + start2[i];
        }
        assertClose(y2, download(c2, t2 * n2, CUDA_R_32F), 1e-6);
    }

    @Test
    void groupedBatchedGemmChecksItsArrays() {
        assertThrows(IllegalArgumentException.class, () -> cublas.gemmGroupedBatchedEx(handle, new int[]{0}, new int[]{0},
                new int[]{1}, new int[]{1}, new int[]{1}, new float[]{1f, 1f}, 0, CUDA_R_32F, new int[]{1}, 0, CUDA_R_32F,
                new int[]{1}, new float[]{0f}, 0, CUDA_R_32F, new int[]{1}, new int[]{1}, Cublas.CUBLAS_COMPUTE_32F));
        assertThrows(IllegalArgumentException.class, () -> new GroupedGemmPlan().add(true, 2, 2, 2, 1f,
                new long[]{1, 2}, 2, new long[]{1}, 2, 0f, new long[]{1, 2}, 2));
        long d = driver.memAlloc(256);
        assertThrows(IllegalArgumentException.class, () -> cublas.rowMajorGemmGroupedBatched(handle,
                new GroupedGemmPlan().add(true, 1, 1, 1, 1f, new long[]{d}, 1, new long[]{d}, 1, 0f, new long[]{d}, 1),
                CUDA_R_32F, CUDA_R_16BF, CUDA_R_32F, d, d, d));
    }

    @Test
    void statusesBecomeExceptionsWithTheShapes() {
        long d = driver.memAlloc(256);
        CublasException e = assertThrows(CublasException.class, () -> cublas.gemmEx(handle, Cublas.CUBLAS_OP_N,
                Cublas.CUBLAS_OP_N, 4, 4, 4, 1f, d, CUDA_R_32F, 1, d, CUDA_R_32F, 4, 0f, d, CUDA_R_32F, 4,
                Cublas.CUBLAS_COMPUTE_32F, Cublas.CUBLAS_GEMM_DEFAULT));
        assertEquals("cublasGemmEx failed: CUBLAS_STATUS_INVALID_VALUE (7) [op NN, m=4 n=4 k=4, A f32 lda=1,"
                + " B f32 ldb=4, C f32 ldc=4, compute 68]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> cublas.gemmEx(handle, 0, 0, 1, 1, 1, 1f, d, CUDA_R_32F, 1,
                d, CUDA_R_32F, 1, 0f, d, CUDA_R_32F, 1, 64 /* CUBLAS_COMPUTE_16F */, Cublas.CUBLAS_GEMM_DEFAULT));
        assertThrows(IllegalArgumentException.class, () -> cublas.rowMajorMatmul(handle, 1, 1, 1, d, CUDA_R_32F,
                d, CUDA_R_16BF, d, CUDA_R_32F, 0f));
    }
}

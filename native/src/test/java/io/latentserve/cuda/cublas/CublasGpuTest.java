package io.latentserve.cuda.cublas;

import io.latentserve.cuda.driver.GpuFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static io.latentserve.cuda.cublas.Cublas.CUDA_R_16BF;
import static io.latentserve.cuda.cublas.Cublas.CUDA_R_32F;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cuBLAS GEMMs on GPU 0 against a plain CPU matmul of the same (bf16-rounded) inputs. */
@Tag("gpu")
class CublasGpuTest {
    static GpuFixture gpu;
    static Cublas cublas;
    static MemorySegment handle;

    @BeforeAll
    static void open() {
        gpu = GpuFixture.open();
        cublas = Cublas.tryLoad().orElseThrow();
        handle = cublas.create();
        long workspace = gpu.driver.memAlloc(Cublas.RECOMMENDED_WORKSPACE_BYTES);
        cublas.setWorkspace(handle, workspace, Cublas.RECOMMENDED_WORKSPACE_BYTES);
        cublas.setMathMode(handle, Cublas.CUBLAS_DEFAULT_MATH);
        System.out.println("cuBLAS " + cublas.version(handle) + " from " + cublas.library());
    }

    @AfterAll
    static void close() {
        cublas.destroy(handle);
        gpu.close();
    }

    private static float[] random(int n, long seed, boolean bf16) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            float v = r.nextFloat() * 2 - 1;
            a[i] = bf16 ? GpuFixture.roundBf16(v) : v;
        }
        return a;
    }

    /** out[T,N] = x[T,K] · w[N,K]ᵀ in double, row-major, x read with leading dimension ldx from offset xOff. */
    private static float[] reference(float[] x, int xOff, int ldx, float[] w, int rows, int n, int k) {
        float[] out = new float[rows * n];
        for (int t = 0; t < rows; t++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int i = 0; i < k; i++) {
                    s += (double) x[xOff + t * ldx + i] * w[j * k + i];
                }
                out[t * n + j] = (float) s;
            }
        }
        return out;
    }

    private static void assertClose(float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            double tol = tolerance * Math.max(1, Math.abs(expected[i]));
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    "element " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }

    @Test
    void bf16WeightsAndActivationsToF32() {
        int t = 5, n = 48, k = 320;
        float[] x = random(t * k, 1, true);
        float[] w = random(n * k, 2, true);
        long dx = gpu.uploadBf16(x);
        long dw = gpu.uploadBf16(w);
        long dout = gpu.driver.memAlloc(4L * t * n);

        cublas.rowMajorMatmul(handle, t, n, k, dx, CUDA_R_16BF, dw, CUDA_R_16BF, dout, CUDA_R_32F, 0f);
        gpu.driver.ctxSynchronize();

        assertClose(reference(x, 0, k, w, t, n, k), gpu.downloadF32(dout, t * n), 5e-4);
        free(dx, dw, dout);
    }

    @Test
    void bf16ToBf16() {
        int t = 3, n = 64, k = 128;
        float[] x = random(t * k, 3, true);
        float[] w = random(n * k, 4, true);
        long dx = gpu.uploadBf16(x);
        long dw = gpu.uploadBf16(w);
        long dout = gpu.driver.memAlloc(2L * t * n);

        cublas.rowMajorMatmul(handle, t, n, k, dx, CUDA_R_16BF, dw, CUDA_R_16BF, dout, CUDA_R_16BF, 0f);
        gpu.driver.ctxSynchronize();

        float[] expected = reference(x, 0, k, w, t, n, k);
        float[] actual = gpu.downloadBf16(dout, t * n);
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - actual[i]) <= 1e-2 * Math.max(1, Math.abs(expected[i])),
                    "element " + i + ": " + expected[i] + " vs " + actual[i]);
        }
        free(dx, dw, dout);
    }

    @Test
    void f32GemmWithBetaAccumulatesIntoTheOutput() {
        int t = 7, n = 33, k = 65;
        float[] x = random(t * k, 5, false);
        float[] w = random(n * k, 6, false);
        float[] start = random(t * n, 7, false);
        long dx = gpu.uploadF32(x);
        long dw = gpu.uploadF32(w);
        long dout = gpu.uploadF32(start);

        cublas.rowMajorMatmul(handle, t, n, k, dx, CUDA_R_32F, dw, CUDA_R_32F, dout, CUDA_R_32F, 1f);
        gpu.driver.ctxSynchronize();

        float[] expected = reference(x, 0, k, w, t, n, k);
        for (int i = 0; i < expected.length; i++) {
            expected[i] += start[i];
        }
        assertClose(expected, gpu.downloadF32(dout, t * n), 1e-4);
        free(dx, dw, dout);
    }

    @Test
    void aColumnSliceOfAWiderActivationWorksThroughTheLeadingDimension() {
        int t = 4, n = 16, k = 32, width = 3 * k;
        float[] x = random(t * width, 8, true);
        float[] w = random(n * k, 9, true);
        long dx = gpu.uploadBf16(x);
        long dw = gpu.uploadBf16(w);
        long dout = gpu.driver.memAlloc(4L * t * n);

        cublas.rowMajorGemm(handle, true, t, n, k, 1f, dx + 2L * k, CUDA_R_16BF, width, dw, CUDA_R_16BF, k,
                0f, dout, CUDA_R_32F, n);
        gpu.driver.ctxSynchronize();

        assertClose(reference(x, k, width, w, t, n, k), gpu.downloadF32(dout, t * n), 1e-4);
        free(dx, dw, dout);
    }

    @Test
    void untransposedRightHandSide() {
        int m = 6, n = 20, k = 24;
        float[] a = random(m * k, 10, false);
        float[] b = random(k * n, 11, false); // [K, N]
        float[] bT = new float[n * k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < n; j++) {
                bT[j * k + i] = b[i * n + j];
            }
        }
        long da = gpu.uploadF32(a);
        long db = gpu.uploadF32(b);
        long dc = gpu.driver.memAlloc(4L * m * n);

        cublas.rowMajorGemm(handle, false, m, n, k, 1f, da, CUDA_R_32F, k, db, CUDA_R_32F, n, 0f, dc, CUDA_R_32F, n);
        gpu.driver.ctxSynchronize();

        assertClose(reference(a, 0, k, bT, m, n, k), gpu.downloadF32(dc, m * n), 1e-4);
        free(da, db, dc);
    }

    @Test
    void stridedBatchedIsOneGemmPerHead() {
        int heads = 3, m = 5, n = 8, k = 16;
        float[] a = random(heads * m * k, 12, true);
        float[] b = random(heads * n * k, 13, true);
        long da = gpu.uploadBf16(a);
        long db = gpu.uploadBf16(b);
        long dc = gpu.driver.memAlloc(4L * heads * m * n);

        cublas.rowMajorGemmStridedBatched(handle, true, m, n, k, 1f, da, CUDA_R_16BF, k, (long) m * k,
                db, CUDA_R_16BF, k, (long) n * k, 0f, dc, CUDA_R_32F, n, (long) m * n, heads);
        gpu.driver.ctxSynchronize();

        float[] actual = gpu.downloadF32(dc, heads * m * n);
        for (int h = 0; h < heads; h++) {
            float[] ah = java.util.Arrays.copyOfRange(a, h * m * k, (h + 1) * m * k);
            float[] bh = java.util.Arrays.copyOfRange(b, h * n * k, (h + 1) * n * k);
            assertClose(reference(ah, 0, k, bh, m, n, k),
                    java.util.Arrays.copyOfRange(actual, h * m * n, (h + 1) * m * n), 1e-4);
        }
        free(da, db, dc);
    }

    @Test
    void aBadCallNamesTheStatus() {
        long d = gpu.driver.memAlloc(1024);
        CublasException e = assertThrows(CublasException.class, () -> cublas.gemmEx(handle, Cublas.CUBLAS_OP_N,
                Cublas.CUBLAS_OP_N, 4, 4, 4, 1f, d, CUDA_R_32F, 1, d, CUDA_R_32F, 4, 0f, d, CUDA_R_32F, 4,
                Cublas.CUBLAS_COMPUTE_32F, Cublas.CUBLAS_GEMM_DEFAULT));
        assertEquals("cublasGemmEx", e.call());
        assertTrue(e.getMessage().startsWith("cublasGemmEx failed: CUBLAS_STATUS_INVALID_VALUE (7)"), e.getMessage());
        gpu.driver.memFree(d);
    }

    private static void free(long... pointers) {
        for (long p : pointers) {
            gpu.driver.memFree(p);
        }
    }
}

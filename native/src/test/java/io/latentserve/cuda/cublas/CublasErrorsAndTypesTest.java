package io.latentserve.cuda.cublas;

import org.junit.jupiter.api.Test;

import static io.latentserve.cuda.cublas.Cublas.CUDA_R_16BF;
import static io.latentserve.cuda.cublas.Cublas.CUDA_R_16F;
import static io.latentserve.cuda.cublas.Cublas.CUDA_R_32F;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cuBLAS status messages, enum values and the GEMM type and shape checks; no GPU involved. */
class CublasErrorsAndTypesTest {

    @Test
    void exceptionNamesTheCallAndTheStatus() {
        CublasException e = new CublasException("cublasGemmEx", 7, "m=1 n=2 k=3");
        assertEquals("cublasGemmEx failed: CUBLAS_STATUS_INVALID_VALUE (7) [m=1 n=2 k=3]", e.getMessage());
        assertEquals("cublasGemmEx", e.call());
        assertEquals(7, e.status());
        assertEquals("cublasCreate_v2 failed: CUBLAS_STATUS_NOT_INITIALIZED (1)",
                new CublasException("cublasCreate_v2", 1).getMessage());
        assertEquals("cublasSetStream_v2 failed: CUBLAS_STATUS_UNKNOWN (42)",
                new CublasException("cublasSetStream_v2", 42).getMessage());
    }

    @Test
    void everyDocumentedStatusHasItsName() {
        assertEquals("CUBLAS_STATUS_SUCCESS", CublasException.statusName(0));
        assertEquals("CUBLAS_STATUS_ALLOC_FAILED", CublasException.statusName(3));
        assertEquals("CUBLAS_STATUS_ARCH_MISMATCH", CublasException.statusName(8));
        assertEquals("CUBLAS_STATUS_MAPPING_ERROR", CublasException.statusName(11));
        assertEquals("CUBLAS_STATUS_EXECUTION_FAILED", CublasException.statusName(13));
        assertEquals("CUBLAS_STATUS_INTERNAL_ERROR", CublasException.statusName(14));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", CublasException.statusName(15));
        assertEquals("CUBLAS_STATUS_LICENSE_ERROR", CublasException.statusName(16));
        assertDoesNotThrow(() -> Cublas.check(0, "cublasGemmEx"));
        assertThrows(CublasException.class, () -> Cublas.check(13, "cublasGemmEx"));
    }

    @Test
    void enumValuesMatchTheDocumentedOnes() {
        assertEquals(0, Cublas.CUBLAS_OP_N);
        assertEquals(1, Cublas.CUBLAS_OP_T);
        assertEquals(0, CUDA_R_32F);
        assertEquals(2, CUDA_R_16F);
        assertEquals(14, CUDA_R_16BF);
        assertEquals(68, Cublas.CUBLAS_COMPUTE_32F);
        assertEquals(-1, Cublas.CUBLAS_GEMM_DEFAULT);
        assertEquals(0, Cublas.CUBLAS_DEFAULT_MATH);
    }

    @Test
    void supportedTypeCombinations() {
        assertTrue(GemmTypes.supported(CUDA_R_16BF, CUDA_R_16BF, CUDA_R_32F));
        assertTrue(GemmTypes.supported(CUDA_R_16BF, CUDA_R_16BF, CUDA_R_16BF));
        assertTrue(GemmTypes.supported(CUDA_R_16F, CUDA_R_16F, CUDA_R_32F));
        assertTrue(GemmTypes.supported(CUDA_R_32F, CUDA_R_32F, CUDA_R_32F));
        assertFalse(GemmTypes.supported(CUDA_R_32F, CUDA_R_32F, CUDA_R_16BF));
        assertFalse(GemmTypes.supported(CUDA_R_16BF, CUDA_R_16F, CUDA_R_32F));
        assertFalse(GemmTypes.supported(CUDA_R_32F, CUDA_R_16BF, CUDA_R_32F));
    }

    @Test
    void f32ActivationsWithBf16WeightsAreRefusedWithAHint() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GemmTypes.check(CUDA_R_32F, CUDA_R_16BF, CUDA_R_32F));
        assertTrue(e.getMessage().startsWith("cublasGemmEx with f32 compute does not take A f32, B bf16, C f32"),
                e.getMessage());
        assertTrue(e.getMessage().contains("cast the activations"), e.getMessage());
    }

    @Test
    void rowMajorShapesAreChecked() {
        assertDoesNotThrow(() -> GemmTypes.checkShape(true, 4, 8, 16, 16, 16, 8));
        assertDoesNotThrow(() -> GemmTypes.checkShape(false, 4, 8, 16, 32, 8, 8));
        assertDoesNotThrow(() -> GemmTypes.checkShape(true, 4, 8, 16, 64, 16, 24), "column slices of wider rows");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GemmTypes.checkShape(true, 4, 8, 16, 16, 8, 8));
        assertTrue(e.getMessage().contains("ldb=8 (>= 16)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GemmTypes.checkShape(false, 4, 8, 16, 16, 4, 8));
        assertThrows(IllegalArgumentException.class, () -> GemmTypes.checkShape(true, 0, 8, 16, 16, 16, 8));
    }

    @Test
    void elementSizesAndNames() {
        assertEquals(4, GemmTypes.elementBytes(CUDA_R_32F));
        assertEquals(2, GemmTypes.elementBytes(CUDA_R_16BF));
        assertEquals("bf16", GemmTypes.name(CUDA_R_16BF));
        assertEquals("cudaDataType(99)", GemmTypes.name(99));
    }
}

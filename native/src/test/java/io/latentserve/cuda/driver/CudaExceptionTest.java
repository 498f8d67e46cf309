package io.latentserve.cuda.driver;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CudaExceptionTest {

    @Test
    void namesTheCallAndTheError() {
        CudaException e = new CudaException("cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");
        assertEquals("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory", e.getMessage());
        assertEquals("cuMemAlloc_v2", e.call());
        assertEquals(2, e.status());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
    }

    @Test
    void fallsBackToTheNumberWhenTheDriverCannotNameIt() {
        CudaException e = new CudaException("cuLaunchKernel", 12345, null, null);
        assertEquals("cuLaunchKernel failed: CUDA error 12345", e.getMessage());
        assertEquals(null, e.errorName());
    }

    @Test
    void descriptionIsOptional() {
        assertEquals("cuInit failed: CUDA_ERROR_NO_DEVICE (100)",
                new CudaException("cuInit", 100, "CUDA_ERROR_NO_DEVICE", " ").getMessage());
    }

    @Test
    void probeHoldsAValueOrAReason() {
        Probe<String> ok = Probe.ok("x");
        assertTrue(ok.ok());
        assertEquals("x", ok.orElseThrow());
        Probe<String> failed = Probe.failed("no GPU");
        assertFalse(failed.ok());
        assertEquals("no GPU", assertThrows(CudaUnavailableException.class, failed::orElseThrow).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Probe<>(Optional.of("x"), Optional.of("y")));
    }

    @Test
    void aFileThatIsNotALibraryFailsToLoadWithItsPath(@TempDir Path tmp) throws IOException {
        Path junk = Files.writeString(tmp.resolve("libcuda.so.1"), "not an ELF file");
        Probe<CudaDriver> probe = CudaDriver.tryLoad(new LibraryLookup("cuda", CudaLibraries.fileNames("cuda"),
                Optional.of(junk), "search", java.util.List.of(tmp), java.util.List.of()));
        assertFalse(probe.ok());
        String reason = probe.reason().orElseThrow();
        assertEquals("could not load the CUDA driver library " + junk + ": not a shared library (no ELF header)", reason);
        assertThrows(CudaUnavailableException.class, () -> CudaDriver.load(junk));
    }

    @Test
    void aSharedLibraryThatIsNotTheDriverSaysWhichFunctionIsMissing() {
        Path libm = Path.of("/lib/x86_64-linux-gnu/libm.so.6");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(libm), "no " + libm + " on this machine");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaDriver.load(libm));
        assertTrue(e.getMessage().startsWith(libm + " does not export cuInit: not the expected library"), e.getMessage());
    }
}

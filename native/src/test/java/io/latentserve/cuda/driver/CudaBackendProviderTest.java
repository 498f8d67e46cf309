package io.latentserve.cuda.driver;

import io.latentserve.cuda.CudaBackendProvider;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.BackendProvider;
import io.latentserve.model.backend.DeviceSelector;
import io.latentserve.model.cpu.CpuBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Why the CUDA backend is unavailable, and that --device auto then falls back to the CPU cleanly. */
class CudaBackendProviderTest {
    @TempDir
    Path tmp;

    private CudaBackendProvider provider(Optional<Path> explicitCuda, Path... searched) {
        return new CudaBackendProvider(Map.of(), explicitCuda, Optional.empty(), Optional.of(SearchPath.of(searched)),
                CudaBackendProvider.FATBIN_RESOURCE, 0);
    }

    @Test
    void noDriverLibrarySaysWhereItLooked() {
        Path empty = tmp.resolve("empty");
        CudaBackendProvider cuda = provider(Optional.empty(), empty);

        String reason = cuda.unavailableReason().orElseThrow();

        assertEquals("cuda", cuda.device());
        assertTrue(reason.startsWith("no CUDA driver: libcuda.so.1 / libcuda.so (the CUDA driver library) not found;"
                + " looked in: " + empty), reason);
        assertTrue(reason.contains("LATENTSERVE_LIBCUDA"), reason);
        assertTrue(cuda.description().isEmpty());
    }

    @Test
    void aBadExplicitPathIsTheReason() {
        Path missing = tmp.resolve("nowhere/libcuda.so.1");
        String reason = provider(Optional.of(missing)).unavailableReason().orElseThrow();
        assertTrue(reason.contains("-Dlatentserve.cuda.lib=" + missing) && reason.contains("does not exist"), reason);
    }

    @Test
    void aLibraryThatDoesNotLoadIsTheReason() throws IOException {
        Path junk = Files.writeString(tmp.resolve("libcuda.so.1"), "not an ELF file");
        String reason = provider(Optional.empty(), tmp).unavailableReason().orElseThrow();
        assertTrue(reason.startsWith("no CUDA driver: could not load the CUDA driver library " + junk), reason);
    }

    @Test
    void createWithoutAGpuFailsWithTheReason() {
        CudaBackendProvider cuda = provider(Optional.empty(), tmp.resolve("empty"));
        IllegalStateException e = assertThrows(IllegalStateException.class, cuda::create);
        assertTrue(e.getMessage().startsWith("the CUDA backend is unavailable: no CUDA driver:"), e.getMessage());
    }

    @Test
    void theProviderIsRegisteredAsAService() {
        List<String> devices = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(p -> devices.add(p.device()));
        assertTrue(devices.contains("cuda"), "providers: " + devices);
    }

    /** On this machine (no GPU): the real provider gives a reason, auto falls back and says why, cuda refuses. */
    @Test
    void deviceAutoFallsBackToTheCpuWithoutAGpu() {
        Optional<String> reason = new CudaBackendProvider().unavailableReason();
        assumeTrue(reason.isPresent(), "a usable GPU is present: nothing to fall back from");
        assertTrue(!reason.get().isBlank());

        List<String> log = new ArrayList<>();
        try (Backend backend = new DeviceSelector().select("auto", log::add)) {
            assertInstanceOf(CpuBackend.class, backend);
        }
        assertEquals(1, log.size(), "one line says why: " + log);
        assertTrue(log.getFirst().startsWith("device auto: using the CPU (" + reason.get()), log.getFirst());

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new DeviceSelector().select("cuda", log::add));
        assertTrue(e.getMessage().startsWith("--device cuda: no usable GPU (" + reason.get()), e.getMessage());
    }
}

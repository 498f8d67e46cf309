package io.latentserve.model.backend;

import io.latentserve.model.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The backend chosen for --device, and the matmul precision and CUDA graphs handed to the GPU backend it creates. */
class DeviceSelectorTest {

    /** A "cuda" provider that records the options it was asked for and hands out a CPU backend. */
    static final class RecordingProvider implements BackendProvider {
        final String unavailable;
        final List<MatmulPrecision> created = new ArrayList<>();
        final List<Boolean> graphs = new ArrayList<>();

        RecordingProvider(String unavailable) {
            this.unavailable = unavailable;
        }

        @Override
        public String device() {
            return "cuda";
        }

        @Override
        public Optional<String> unavailableReason() {
            return Optional.ofNullable(unavailable);
        }

        @Override
        public Backend create(BackendOptions options) {
            created.add(options.matmulPrecision());
            graphs.add(options.cudaGraphs());
            return new CpuBackend();
        }
    }

    @Test
    void theGpuBackendIsCreatedAtTheRequestedPrecision() {
        RecordingProvider cuda = new RecordingProvider(null);
        DeviceSelector selector = new DeviceSelector(List.of(cuda));
        List<String> log = new ArrayList<>();
        try (Backend b = selector.select("cuda", MatmulPrecision.MEDIUM, log::add)) {
            assertEquals(List.of(MatmulPrecision.MEDIUM), cuda.created);
        }
        try (Backend b = selector.select("auto", MatmulPrecision.HIGH, log::add)) {
            assertEquals(List.of(MatmulPrecision.MEDIUM, MatmulPrecision.HIGH), cuda.created);
        }
        assertTrue(log.isEmpty(), log.toString());
    }

    @Test
    void theGpuBackendGetsCudaGraphsAsAskedAndThePropertyOtherwise() {
        RecordingProvider cuda = new RecordingProvider(null);
        DeviceSelector selector = new DeviceSelector(List.of(cuda));
        String saved = System.getProperty(BackendOptions.GRAPHS_PROPERTY);
        try {
            System.setProperty(BackendOptions.GRAPHS_PROPERTY, "true");
            try (Backend b = selector.select("cuda", new BackendOptions(MatmulPrecision.HIGH, false), s -> { })) {
                assertEquals(List.of(false), cuda.graphs, "the option over the property");
            }
            try (Backend b = selector.select("auto", MatmulPrecision.MEDIUM, s -> { })) {
                assertEquals(List.of(false, true), cuda.graphs, "no option: the property");
            }
            System.clearProperty(BackendOptions.GRAPHS_PROPERTY);
            try (Backend b = selector.select("cuda", s -> { })) {
                assertEquals(List.of(false, true, false), cuda.graphs, "off unless asked");
            }
            try (Backend b = selector.select("cpu", new BackendOptions(MatmulPrecision.HIGH, true), s -> { })) {
                assertInstanceOf(CpuBackend.class, b);
                assertEquals(3, cuda.graphs.size(), "the CPU ignores it: no GPU backend created");
            }
        } finally {
            if (saved == null) {
                System.clearProperty(BackendOptions.GRAPHS_PROPERTY);
            } else {
                System.setProperty(BackendOptions.GRAPHS_PROPERTY, saved);
            }
        }
    }

    @Test
    void withoutAPrecisionTheSystemPropertyDecides() {
        String saved = System.getProperty(MatmulPrecision.PROPERTY);
        RecordingProvider cuda = new RecordingProvider(null);
        try {
            System.setProperty(MatmulPrecision.PROPERTY, "medium");
            try (Backend b = new DeviceSelector(List.of(cuda)).select("cuda", s -> { })) {
                assertEquals(List.of(MatmulPrecision.MEDIUM), cuda.created);
            }
        } finally {
            if (saved == null) {
                System.clearProperty(MatmulPrecision.PROPERTY);
            } else {
                System.setProperty(MatmulPrecision.PROPERTY, saved);
            }
        }
    }

    @Test
    void theCpuIgnoresThePrecisionAndAutoSaysWhyItFellBack() {
        RecordingProvider cuda = new RecordingProvider("no GPU here");
        DeviceSelector selector = new DeviceSelector(List.of(cuda));
        List<String> log = new ArrayList<>();
        try (Backend b = selector.select("cpu", MatmulPrecision.MEDIUM, log::add)) {
            assertInstanceOf(CpuBackend.class, b);
        }
        try (Backend b = selector.select("auto", MatmulPrecision.MEDIUM, log::add)) {
            assertInstanceOf(CpuBackend.class, b);
        }
        assertTrue(cuda.created.isEmpty(), "an unavailable provider is never asked to create");
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.getFirst().contains("no GPU here"), log.toString());
        var e = assertThrows(IllegalStateException.class, () -> selector.select("cuda", MatmulPrecision.HIGH, log::add));
        assertTrue(e.getMessage().contains("no GPU here"), e.getMessage());
    }
}

package io.latentserve.server.bench;

import io.latentserve.model.LoadedModel;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.random.DemoModel;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine-level benchmark on the CPU with the demo model: every request served, both rates measured. */
class EngineBenchTest {

    @Test
    void servesEveryRequestAndMeasuresBothPhases() throws Exception {
        Path root = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "latentserve-test-cache"));
        try (LoadedModel m = LoadedModel.open(DemoModel.ensure(root), new CpuBackend(2))) {
            EngineBench.Result r = EngineBench.run(m.model(), m.tokenizer(), 3, 40, 5, 64);
            assertEquals(3, r.batch());
            assertTrue(r.prefillTokensPerSecond() > 0 && Double.isFinite(r.prefillTokensPerSecond()), r.toString());
            assertTrue(r.decodeTokensPerSecond() > 0 && Double.isFinite(r.decodeTokensPerSecond()), r.toString());
            assertTrue(r.seconds() > 0, r.toString());
            assertThrows(IllegalArgumentException.class, () -> EngineBench.run(m.model(), m.tokenizer(), 1, 8, 1, 64));
        }
    }
}

package io.latentserve.cuda.bench;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.backend.CudaBackend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SampleBench's harness at a toy size (2 rows of 2,000 logits, one rep): every mode timed at every batch. Fast
 * enough for the emulator; DeviceBench runs it at 102,400 logits and B up to 256 on a GPU.
 */
@Tag("gpu")
class SampleBenchGpuTest {
    @Test
    void everyModeIsTimed() {
        try (CudaContext ctx = CudaContext.open(0, 16L << 20, 16L << 20, 64L << 20);
             CudaBackend backend = CudaBackend.create(ctx, false)) {
            List<SampleBench.Result> results = SampleBench.run(ctx, backend, new int[]{1, 2}, 2000, 1);
            assertEquals(2 * SampleBench.Mode.values().length, results.size());
            for (int i = 0; i < results.size(); i++) {
                SampleBench.Result r = results.get(i);
                assertEquals(SampleBench.Mode.values()[i % SampleBench.Mode.values().length], r.mode());
                assertEquals(i < SampleBench.Mode.values().length ? 1 : 2, r.rows());
                assertTrue(r.secondsPerCall() > 0 && Double.isFinite(r.rowsPerSecond()), r.toString());
            }
        }
    }
}

package io.latentserve.cuda.bench;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.backend.CudaBackend;
import io.latentserve.model.backend.MlaShape;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MlaPrefillBench's harness at a toy size (2 heads at V2-Lite's head dims, 40 new tokens after 30 cached): every
 * path timed, the FLOPs counted causally. Fast enough for the emulator; DeviceBench runs it at 4K on a GPU.
 */
@Tag("gpu")
class MlaPrefillBenchGpuTest {
    @Test
    void everyPathIsTimed() {
        MlaShape small = new MlaShape(2, 128, 64, 128, 512, 0.1147214f);
        assertEquals(2.0 * 320 * 16 * (4096.0 * 4097 / 2), MlaPrefillBench.flops(MlaPrefillBench.V2_LITE, 4096, 0));
        try (CudaContext ctx = CudaContext.open(0, 64L << 20, 16L << 20, 256L << 20);
             CudaBackend backend = CudaBackend.create(ctx, false)) {
            List<MlaPrefillBench.Result> results = MlaPrefillBench.run(ctx, backend, small, 40, 30, 1);
            assertEquals(MlaPrefillBench.Path.values().length, results.size());
            for (int i = 0; i < results.size(); i++) {
                MlaPrefillBench.Result r = results.get(i);
                assertEquals(MlaPrefillBench.Path.values()[i], r.path());
                assertEquals(2.0 * 320 * 2 * (40 * 30 + 40 * 41 / 2), r.flops(), r.toString());
                assertTrue(r.secondsPerCall() > 0 && Double.isFinite(r.flopsPerSecond()), r.toString());
            }
        }
    }
}

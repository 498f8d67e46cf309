package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.bench.MlaDecodeBench;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs {@link MlaDecodeBench} on the GPU and prints its lines (timings, not a pass/fail check beyond "it ran
 * and took time"). Far too slow for the emulator: do not name it in run-java.sh.
 */
@Tag("gpu")
class MlaDecodeBenchGpuTest {
    @Test
    void decodeShapes() {
        try (CudaContext ctx = CudaContext.open(0, 0, 0, 0)) {
            var results = MlaDecodeBench.run(ctx, 10);
            assertEquals(8, results.size(), "4 shapes x (f32, bf16 cache)");
            for (var r : results) {
                System.out.println("BENCH " + r);
                assertTrue(r.decodeMillis() > 0 && r.attentionMillis() > 0, r.toString());
                assertEquals(r.dtype() == io.latentserve.model.backend.KvCacheDtype.BF16, r.hasTc(),
                        "ls_mla_decode_tc is timed over the bf16 cache only");
                assertTrue(!r.hasTc() || r.tcMillis() > 0, r.toString());
                assertEquals(r.hasTc() && ctx.device().atLeast(9, 0), r.hasTma(),
                        "ls_mla_decode_tma is timed where ls_mla_decode_tc is, on compute capability 9.0 and up");
                assertTrue(!r.hasTma() || r.tmaMillis() > 0, r.toString());
            }
        }
    }
}

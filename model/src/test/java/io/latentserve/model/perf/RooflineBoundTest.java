package io.latentserve.model.perf;

import io.latentserve.model.config.ModelConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The bound of issue 6 / BENCHMARKS.md for DeepSeek-V2-Lite in bf16 on an H200 (4.3 TB/s, 790 TFLOP/s). */
class RooflineBoundTest {
    private static final ModelConfig V2_LITE = KnownShapes.deepseekV2Lite(KnownShapes.V2_LITE_LAYERS);
    private static final RooflineBound BOUND = new RooflineBound(V2_LITE);

    @Test
    void v2LiteParameterGroupsAreThePublishedOnes() {
        assertEquals(15.7e9, V2_LITE.parameterCount(), 0.05e9);
        assertEquals(1.10e9, BOUND.alwaysUsedParams(), 0.01e9);
        assertEquals(8.65e6, BOUND.expertParams(), 0.01e6);
        assertEquals(26, BOUND.moeLayers());
        assertEquals(31_104, BOUND.kvBytesPerToken(2), 0);
        assertEquals(6, BOUND.distinctExperts(1), 1e-12);
        assertEquals(64 * (1 - Math.pow(1 - 6 / 64.0, 16)), BOUND.distinctExperts(16), 1e-9);
    }

    @Test
    void decodeStepBoundsMatchTheIssue() {
        double bw = 4.3e12;
        assertEquals(1.15e-3, BOUND.decodeStepSeconds(1, 1, 2, 2, bw), 0.01e-3);
        assertEquals(9.1e-3, BOUND.decodeStepSeconds(256, 1024, 2, 2, bw), 0.1e-3);
        assertEquals(14.8e-3, BOUND.decodeStepSeconds(256, 4096, 2, 2, bw), 0.1e-3);
        // an f32 cache doubles the cache's share
        assertEquals(BOUND.decodeStepBytes(256, 4096, 2, 2) + 256.0 * 4096 * 31_104,
                BOUND.decodeStepBytes(256, 4096, 2, 4), 1);
    }

    @Test
    void prefillBoundIsAbout170KTokensPerSecond() {
        // 2 x 2.24 B active parameters (no lm_head but for the last token) = 4.48 GFLOP/token, 176K tok/s;
        // the causal QK and PV products over a 4K prompt add 0.57 GFLOP/token: 156K tok/s. The issue's
        // "about 170K" lies between the two.
        double weightsOnly = 790e12 / (BOUND.prefillFlopsPerToken(4096) - 2.0 * 2048.5 * 16 * 320 * 27);
        assertEquals(176e3, weightsOnly, 2e3);
        assertEquals(156e3, 790e12 / BOUND.prefillFlopsPerToken(4096), 2e3);
    }
}

package io.latentserve.model.backend;

import io.latentserve.model.RandomModels;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.graph.ForwardBatch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The plain rules of row sampling, and the default (host) side of Backend.sampleRows / CausalLM.forwardSampled. */
class RowSamplingTest {
    static final float NEG = Float.NEGATIVE_INFINITY;
    static final double BELOW_ONE = Math.nextDown(1.0);

    @Test
    void greedyIsTheHighestLogitAndTheLowestIdOnTies() {
        float[] l = {1, 3, NEG, 3, 2};
        assertEquals(1, RowSampling.greedy().sample(l));
        assertEquals(1, new RowSampling(1e-6, 0, 1, 0.9).sample(l), "below 1e-5 is greedy, as SamplingParams says");
        assertEquals(1, new RowSampling(1.5, 1, 1, 0.9).sample(l), "top-k 1 is greedy");
    }

    @Test
    void withoutTruncationTheDrawWalksTheIdsInOrder() {
        float[] l = {0, 0, NEG, 0, 0}; // four tokens of weight 1
        assertEquals(0, new RowSampling(1, 0, 1, 0).sample(l));
        assertEquals(1, new RowSampling(1, 0, 1, 0.25).sample(l), "u·total = 1 exactly: past token 0");
        assertEquals(3, new RowSampling(1, -1, 1, 0.5).sample(l), "banned token 2 is skipped");
        assertEquals(4, new RowSampling(1, 0, 1, BELOW_ONE).sample(l));
    }

    @Test
    void topPKeepsTheShortestBestFirstPrefixReachingTheTarget() {
        float[] l = {0, 1, 1, 0}; // best first: 1, 2, then 0, 3
        // weights e^-1, 1, 1, e^-1: top-p 0.5 of the mass is reached by tokens 1 and 2 together
        assertEquals(2, new RowSampling(1, 0, 0.5, BELOW_ONE).sample(l));
        assertEquals(1, new RowSampling(1, 0, 0.2, BELOW_ONE).sample(l));
        float[] flat = {0, 0, 0, 0};
        assertEquals(1, new RowSampling(1, 0, 0.5, BELOW_ONE).sample(flat), "a target reached exactly stops there");
        assertEquals(2, new RowSampling(1, 3, 1, BELOW_ONE).sample(flat), "top-k through a tie keeps the lower ids");
        assertEquals(1, new RowSampling(1, 3, 0.5, BELOW_ONE).sample(flat), "top-p of the top-k mass");
    }

    @Test
    void temperatureSharpensAndFlattens() {
        float[] l = {0, 2};
        double u = 0.2; // token 0 weighs e^-2/(1+e^-2) = 0.119 at T 1, e^-1/(1+e^-1) = 0.269 at T 2
        assertEquals(1, new RowSampling(1, 0, 1, u).sample(l));
        assertEquals(0, new RowSampling(2, 0, 1, u).sample(l));
    }

    @Test
    void badInputIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new RowSampling(1, 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new RowSampling(1, 0, 0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new RowSampling(-1, 0, 1, 0.5));
        assertEquals(0, new RowSampling(1, -1, 1, 0.5).topK(), "-1 disables top-k, as 0 does");
        assertThrows(IllegalArgumentException.class, () -> RowSampling.greedy().sample(new float[]{0, Float.NaN}));
        assertThrows(IllegalArgumentException.class, () -> RowSampling.greedy().sample(new float[]{Float.POSITIVE_INFINITY}));
        assertThrows(IllegalStateException.class, () -> RowSampling.greedy().sample(new float[]{NEG, NEG}));
        assertThrows(IllegalArgumentException.class, () -> new SampledRows(new int[]{3}, new float[][]{{1}}));
    }

    /** The CPU backend samples nothing itself: forwardSampled gives every row's logits, equal to forward's. */
    @Test
    void onTheCpuEveryRowComesToTheHost() {
        try (CpuBackend cpu = new CpuBackend(1); CausalLM model = RandomModels.model(RandomModels.deepseekConfig(false, false), cpu, 3);
             KvCache cache = model.newKvCache(8, 16)) {
            assertFalse(cpu.samplesRows());
            ForwardBatch batch = ForwardBatch.of(new int[][]{{5, 6, 7}, {9}}, new int[]{0, 0},
                    new int[][]{{0}, {1}}, 16);
            float[][] logits = model.forward(batch, cache);
            SampledRows rows = model.forwardSampled(batch, cache, new RowSampling[]{RowSampling.greedy(), null});
            for (int r = 0; r < 2; r++) {
                assertFalse(rows.sampled(r));
                assertArrayEquals(logits[r], rows.hostLogits()[r]);
            }
            assertThrows(IllegalArgumentException.class, () -> model.forwardSampled(batch, cache, new RowSampling[1]));
        }
    }
}

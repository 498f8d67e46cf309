package io.latentserve.server.engine.sample;

import io.latentserve.model.backend.LogitEdits;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LogitEditsTrackerTest {
    @Test
    void aRequestWithoutEditsHasNoTracker() {
        assertNull(LogitEditsTracker.of(SamplingParams.defaults().withTemperature(0.7)));
    }

    /** Folding the history in token by token gives the edits of one pass over the whole history. */
    @Test
    void growingHistoriesGiveTheEditsOfTheWholeHistory() {
        SplittableRandom rnd = new SplittableRandom(5);
        double[][] penalties = {{0, 0, 1.2}, {0.5, 0, 1}, {0, -0.25, 1}, {0.3, 0.2, 0.9}, {0, 0, 1}};
        for (int trial = 0; trial < 200; trial++) {
            double[] pen = penalties[trial % penalties.length];
            Map<Integer, Float> bias = new HashMap<>();
            bias.put(rnd.nextInt(50), -100f);
            bias.put(rnd.nextInt(50), 1.5f);
            SamplingParams p = SamplingParams.defaults().withPenalties(pen[0], pen[1], pen[2]).withLogitBias(bias);
            int[] prompt = rnd.ints(1 + rnd.nextInt(30), 0, 50).toArray();
            int[] output = rnd.ints(rnd.nextInt(30), 0, 50).toArray();
            LogitEditsTracker growing = LogitEditsTracker.of(p);
            for (int n = 0; n <= output.length; n++) {
                growing.edits(TokenHistory.of(prompt, Arrays.copyOf(output, n)));
            }
            TokenHistory whole = TokenHistory.of(prompt, output);
            assertSameEdits(LogitEditsTracker.of(p).edits(whole), growing.edits(whole), reference(p, whole));
        }
    }

    @Test
    void aShrinkingHistoryIsRejected() {
        LogitEditsTracker t = LogitEditsTracker.of(SamplingParams.defaults().withPenalties(0, 0, 1.1));
        t.edits(TokenHistory.of(new int[]{1, 2, 3}, new int[]{4}));
        assertThrows(IllegalArgumentException.class, () -> t.edits(TokenHistory.of(new int[]{1, 2, 3}, new int[0])));
    }

    /** Each token's edited logit from 0 and 1, by the host LogitsProcessor: what the entries must give. */
    private static double[][] reference(SamplingParams p, TokenHistory h) {
        double[][] out = new double[2][];
        LogitsProcessor processor = new LogitsProcessor();
        for (int v = 0; v < 2; v++) {
            float[] logits = new float[50];
            Arrays.fill(logits, v == 0 ? -1f : 1f);
            out[v] = new double[50];
            processor.process(logits, p.withTemperature(1), h, out[v]);
        }
        return out;
    }

    private static void assertSameEdits(LogitEdits fresh, LogitEdits grown, double[][] reference) {
        for (int v = 0; v < 2; v++) {
            float[] a = new float[50];
            float[] b = new float[50];
            Arrays.fill(a, v == 0 ? -1f : 1f);
            Arrays.fill(b, v == 0 ? -1f : 1f);
            fresh.apply(a);
            grown.apply(b);
            assertArrayEquals(a, b);
            for (int t = 0; t < 50; t++) {
                assertEquals(reference[v][t], a[t], "token " + t);
            }
        }
    }
}

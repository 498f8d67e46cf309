package io.latentserve.server.engine.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LogitsProcessorTest {
    private static final float[] LOGITS = {2f, -2f, 1f, 0.5f};
    private final Sampler sampler = new Sampler();

    private double[] process(SamplingParams p, TokenHistory h) {
        return sampler.processedLogits(LOGITS, p, h);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOnce() {
        // Token 0 appears twice and token 1 once, in prompt and output: each is penalized once.
        TokenHistory h = TokenHistory.of(new int[] {0, 1}, new int[] {0});
        double[] out = process(SamplingParams.defaults().withPenalties(0, 0, 2), h);
        assertArrayEquals(new double[] {1, -4, 1, 0.5}, out, 1e-12);
    }

    @Test
    void presenceAndFrequencyPenaltiesCountGeneratedTokensOnly() {
        TokenHistory h = TokenHistory.of(new int[] {2, 2}, new int[] {0, 0, 1});
        double[] out = process(SamplingParams.defaults().withPenalties(0.5, 0.25, 1), h);
        assertArrayEquals(new double[] {2 - (0.5 + 2 * 0.25), -2 - (0.5 + 0.25), 1, 0.5}, out, 1e-12);
        double[] again = process(SamplingParams.defaults().withPenalties(0.5, 0.25, 1), h);
        assertArrayEquals(out, again, "scratch counts are clean after each call");
    }

    @Test
    void negativePenaltiesEncourageRepetition() {
        TokenHistory h = TokenHistory.of(new int[0], new int[] {3});
        double[] out = process(SamplingParams.defaults().withPenalties(-1, -0.5, 1), h);
        assertEquals(0.5 + 1.5, out[3], 1e-12);
    }

    @Test
    void temperatureDividesAfterBiasAndPenalties() {
        TokenHistory h = TokenHistory.of(new int[] {1}, new int[0]);
        SamplingParams p = SamplingParams.defaults().withTemperature(0.5).withPenalties(0, 0, 2)
                .withLogitBias(Map.of(2, 1.5f, 3, -100f));
        double[] out = process(p, h);
        assertArrayEquals(new double[] {4, -8, 5, Double.NEGATIVE_INFINITY}, out, 1e-12);
    }

    @Test
    void greedyIsNotScaledByTemperature() {
        assertArrayEquals(new double[] {2, -2, 1, 0.5}, process(SamplingParams.greedy(), TokenHistory.empty()), 0);
    }

    @Test
    void historyTokensOutsideTheVocabularyAreRejected() {
        TokenHistory h = TokenHistory.of(new int[] {0}, new int[] {4});
        assertThrows(IllegalArgumentException.class, () -> process(SamplingParams.defaults().withPenalties(1, 0, 1), h));
        // The failed call left nothing behind.
        TokenHistory ok = TokenHistory.of(new int[0], new int[] {0});
        assertEquals(1, process(SamplingParams.defaults().withPenalties(1, 0, 1), ok)[0], 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new TokenHistory(new int[2], 1, 3));
    }
}

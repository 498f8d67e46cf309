package io.latentserve.server.engine.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class SamplingParamsTest {
    private static final SamplingParams D = SamplingParams.defaults();

    private static void rejects(String field, Supplier<SamplingParams> make) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make::get);
        assertTrue(e.getMessage().startsWith(field + " must be") || e.getMessage().startsWith(field + "[")
                || e.getMessage().startsWith(field + " keys must be"), e.getMessage());
    }

    @Test
    void acceptsTheEdgesOfEveryRange() {
        new SamplingParams(2, 1e-9, 1, 1, -2, 2, 1e-3, Map.of(0, -100f, 1, 100f), 42L, 20);
        new SamplingParams(0, 1, 0, 0, 2, -2, 5, null, null, -1);
        new SamplingParams(0, 1, -1, 0, 0, 0, 1, Map.of(), null, 0);
    }

    @Test
    void rejectsOutOfRangeValuesNamingTheField() {
        rejects("temperature", () -> D.withTemperature(2.01));
        rejects("temperature", () -> D.withTemperature(-0.1));
        rejects("temperature", () -> D.withTemperature(Double.NaN));
        rejects("top_p", () -> D.withTruncation(-1, 0, 0));
        rejects("top_p", () -> D.withTruncation(-1, 1.01, 0));
        rejects("top_k", () -> D.withTruncation(-2, 1, 0));
        rejects("min_p", () -> D.withTruncation(-1, 1, 1.5));
        rejects("presence_penalty", () -> D.withPenalties(2.5, 0, 1));
        rejects("frequency_penalty", () -> D.withPenalties(0, -2.5, 1));
        rejects("repetition_penalty", () -> D.withPenalties(0, 0, 0));
        rejects("repetition_penalty", () -> D.withPenalties(0, 0, Double.POSITIVE_INFINITY));
        rejects("top_logprobs", () -> D.withLogprobs(21));
        rejects("top_logprobs", () -> D.withLogprobs(-2));
        rejects("logit_bias", () -> D.withLogitBias(Map.of(3, 100.5f)));
        rejects("logit_bias", () -> D.withLogitBias(Map.of(-1, 1f)));
        Map<Integer, Float> nullValue = new HashMap<>();
        nullValue.put(1, null);
        rejects("logit_bias", () -> D.withLogitBias(nullValue));
    }

    @Test
    void copiesTheBiasMap() {
        Map<Integer, Float> bias = new HashMap<>(Map.of(1, 2f));
        SamplingParams p = D.withLogitBias(bias);
        bias.put(2, 3f);
        assertEquals(Map.of(1, 2f), p.logitBias());
        assertEquals(Map.of(), D.withLogitBias(null).logitBias());
    }

    @Test
    void greedyBelowATinyTemperature() {
        assertTrue(SamplingParams.greedy().isGreedy());
        assertTrue(D.withTemperature(1e-6).isGreedy());
        assertFalse(D.withTemperature(0.01).isGreedy());
    }

    @Test
    void aSeedGivesTheSameGeneratorEveryTime() {
        RandomGenerator a = D.withSeed(7L).newRandom();
        RandomGenerator b = D.withSeed(7L).newRandom();
        for (int i = 0; i < 100; i++) {
            assertEquals(a.nextLong(), b.nextLong());
        }
        assertFalse(D.newRandom().nextLong() == D.newRandom().nextLong() && D.newRandom().nextLong() == D.newRandom().nextLong(),
                "unseeded requests get fresh seeds");
    }
}

package io.latentserve.server.engine.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final TokenHistory NONE = TokenHistory.empty();
    private final Sampler sampler = new Sampler();

    private static float[] randomLogits(int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] l = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            l[i] = (float) (r.nextGaussian() * 3);
        }
        return l;
    }

    private int[] counts(float[] logits, SamplingParams p, int draws, long seed) {
        RandomGenerator rng = new SplittableRandom(seed);
        int[] c = new int[logits.length];
        for (int i = 0; i < draws; i++) {
            c[sampler.sample(logits, p, NONE, rng).tokenId()]++;
        }
        return c;
    }

    private static double[] softmax(float[] logits, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l / temperature);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] / temperature - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    @Test
    void greedyPicksTheArgmaxAndTheLowestIdOnTies() {
        float[] logits = {0.1f, 3f, -1f, 3f, 2.9f};
        assertEquals(1, sampler.sample(logits, SamplingParams.greedy(), NONE, new SplittableRandom(1)).tokenId());
        float[] big = randomLogits(102_400, 3);
        int argmax = 0;
        for (int i = 1; i < big.length; i++) {
            argmax = big[i] > big[argmax] ? i : argmax;
        }
        assertEquals(argmax, sampler.sample(big, SamplingParams.greedy(), NONE, null).tokenId(), "greedy draws nothing");
    }

    @Test
    void seededSamplingIsReproducibleWhateverElseIsSampled() {
        float[] logits = randomLogits(1000, 5);
        SamplingParams p = SamplingParams.defaults().withTemperature(1.3).withSeed(1234L);
        RandomGenerator alone = p.newRandom();
        int[] expected = new int[200];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = sampler.sample(logits, p, NONE, alone).tokenId();
        }
        // The same request in a "batch" with another request drawing in between.
        RandomGenerator mine = p.newRandom();
        RandomGenerator other = SamplingParams.defaults().newRandom();
        Sampler batchSampler = new Sampler();
        for (int i = 0; i < expected.length; i++) {
            batchSampler.sample(randomLogits(1000, i), SamplingParams.defaults().withTruncation(5, 0.5, 0), NONE, other);
            assertEquals(expected[i], batchSampler.sample(logits, p, NONE, mine).tokenId());
        }
    }

    @Test
    void temperatureSamplesFollowTheSoftmax() {
        float[] logits = {1.0f, 0.5f, 0f, -0.5f, -1.5f};
        double t = 0.7;
        int draws = 200_000;
        int[] c = counts(logits, SamplingParams.defaults().withTemperature(t), draws, 99);
        double[] p = softmax(logits, t);
        double chi2 = 0;
        for (int i = 0; i < p.length; i++) {
            double expected = p[i] * draws;
            chi2 += (c[i] - expected) * (c[i] - expected) / expected;
        }
        // 4 degrees of freedom: chi2 > 25 has probability ~5e-5 for a correct sampler.
        assertTrue(chi2 < 25, "chi-square " + chi2);
    }

    @Test
    void topKOfOneEqualsGreedy() {
        SamplingParams topK1 = SamplingParams.defaults().withTemperature(1.5).withTruncation(1, 1, 0);
        RandomGenerator rng = new SplittableRandom(8);
        for (int trial = 0; trial < 50; trial++) {
            float[] logits = randomLogits(500, trial);
            logits[trial] = logits[trial + 7] = 20; // a tie at the top
            assertEquals(sampler.sample(logits, SamplingParams.greedy(), NONE, rng).tokenId(),
                    sampler.sample(logits, topK1, NONE, rng).tokenId());
        }
    }

    @Test
    void topPSamplesOnlyFromTheNucleusInProportion() {
        // Probabilities 0.5, 0.3, 0.15, 0.05 at shuffled ids; top_p 0.75 keeps the first two.
        float[] logits = new float[6];
        java.util.Arrays.fill(logits, Float.NEGATIVE_INFINITY);
        logits[4] = (float) Math.log(0.5);
        logits[1] = (float) Math.log(0.3);
        logits[5] = (float) Math.log(0.15);
        logits[0] = (float) Math.log(0.05);
        int[] c = counts(logits, SamplingParams.defaults().withTruncation(-1, 0.75, 0), 50_000, 4);
        assertEquals(50_000, c[4] + c[1]);
        assertEquals(0.5 / 0.8, c[4] / 50_000.0, 0.01);
    }

    @Test
    void logitBiasOfMinus100BansEvenTheFavourite() {
        float[] logits = {0f, 500f, 1f};
        SamplingParams ban = SamplingParams.greedy().withLogitBias(Map.of(1, -100f));
        assertEquals(2, sampler.sample(logits, ban, NONE, null).tokenId());
        int[] c = counts(logits, SamplingParams.defaults().withLogitBias(Map.of(1, -100f)), 2000, 1);
        assertEquals(0, c[1]);
        float[] two = {0f, 0f};
        SamplingParams banAll = SamplingParams.defaults().withLogitBias(Map.of(0, -100f, 1, -100f));
        assertThrows(IllegalStateException.class, () -> sampler.sample(two, banAll, NONE, new SplittableRandom(1)));
        SamplingParams outside = SamplingParams.defaults().withLogitBias(Map.of(2, 1f));
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(two, outside, NONE, new SplittableRandom(1)));
    }

    @Test
    void logprobsAreTheRawLogSoftmax() {
        float[] logits = randomLogits(20, 11);
        SamplingParams p = SamplingParams.defaults().withTemperature(0.3).withPenalties(1, 1, 1.5).withLogprobs(20);
        TokenHistory history = TokenHistory.of(new int[] {3}, new int[] {3, 4});
        SampledToken t = sampler.sample(logits, p, history, new SplittableRandom(2));
        double total = 0;
        for (TopLogprob top : t.top()) {
            total += Math.exp(top.logprob());
        }
        assertEquals(1.0, total, 1e-5, "the whole vocabulary's probabilities sum to 1");
        assertEquals(20, t.top().size());
        for (int i = 1; i < t.top().size(); i++) {
            assertTrue(t.top().get(i - 1).logprob() >= t.top().get(i).logprob());
        }
        double[] raw = softmax(logits, 1);
        assertEquals(Math.log(raw[t.tokenId()]), t.logprob(), 1e-5, "from the raw logits, not the processed ones");
        TopLogprob chosen = t.top().stream().filter(x -> x.tokenId() == t.tokenId()).findFirst().orElseThrow();
        assertEquals(chosen.logprob(), t.logprob());
        // Large logits must not overflow: a shift of every logit changes nothing.
        float[] shifted = logits.clone();
        for (int i = 0; i < shifted.length; i++) {
            shifted[i] += 1000;
        }
        SampledToken s = sampler.sample(shifted, p, history, new SplittableRandom(2));
        assertEquals(t.tokenId(), s.tokenId());
        for (int i = 0; i < 20; i++) {
            assertEquals(t.top().get(i).tokenId(), s.top().get(i).tokenId());
            assertEquals(t.top().get(i).logprob(), s.top().get(i).logprob(), 1e-3);
        }
    }

    @Test
    void brokenLogitsFailLoudly() {
        float[] logits = {0f, Float.NaN, 1f};
        assertThrows(IllegalArgumentException.class,
                () -> sampler.sample(logits, SamplingParams.defaults(), NONE, new SplittableRandom(1)));
        logits[1] = Float.POSITIVE_INFINITY;
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(logits, SamplingParams.greedy(), NONE, null));
    }

    @Test
    void logprobsCountFollowsTheRequest() {
        float[] logits = randomLogits(100, 1);
        SampledToken none = sampler.sample(logits, SamplingParams.greedy(), NONE, null);
        assertTrue(Float.isNaN(none.logprob()));
        assertEquals(List.of(), none.top());
        SampledToken only = sampler.sample(logits, SamplingParams.greedy().withLogprobs(0), NONE, null);
        assertTrue(only.logprob() <= 0);
        assertEquals(List.of(), only.top());
        SampledToken five = sampler.sample(logits, SamplingParams.greedy().withLogprobs(5), NONE, null);
        assertEquals(5, five.top().size());
        assertEquals(five.tokenId(), five.top().getFirst().tokenId(), "greedy picks the top raw token here");
    }

    @Test
    void topIdsMatchesAFullSort() {
        float[] logits = randomLogits(5000, 21);
        logits[10] = logits[20] = logits[30] = 50; // ties keep id order
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : a - b);
        int[] expected = new int[20];
        for (int i = 0; i < 20; i++) {
            expected[i] = order[i];
        }
        assertArrayEquals(expected, Logprobs.topIds(logits, 20));
        assertArrayEquals(new int[0], Logprobs.topIds(logits, 0));
        assertNotEquals(0, Logprobs.topIds(new float[] {1, 2}, 5).length);
    }
}

package io.latentserve.server.engine.sample;

import io.latentserve.model.backend.LogitEdits;
import io.latentserve.model.backend.RowSampling;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host {@link Sampler} follows {@link RowSampling#sample}'s rules (which ls_sample is tested against in
 * the native module's CudaSamplingGpuTest) for every request {@link DeviceSampling} lets a backend sample:
 * the same token for the same uniform, over random rows and parameters, ties, banned tokens, rows whose
 * sums are exact so that the top-p target and the draw land on boundaries on purpose, and logit bias and
 * penalties over random histories (the {@link LogitEdits} a {@link LogitEditsTracker} keeps).
 */
class SamplerRulesTest {
    private final Sampler sampler = new Sampler();
    private final SplittableRandom rnd = new SplittableRandom(21);

    /** A generator that yields one given uniform and counts how often it is asked. */
    static final class OneDraw implements RandomGenerator {
        final double u;
        int draws;

        OneDraw(double u) {
            this.u = u;
        }

        @Override
        public double nextDouble() {
            draws++;
            return u;
        }

        @Override
        public long nextLong() {
            throw new AssertionError("the sampler draws doubles only");
        }
    }

    /** The host Sampler's token for these parameters and this uniform, checking that it drew as RowSampling says. */
    int hostToken(float[] logits, SamplingParams params, double u) {
        return hostToken(logits, params, TokenHistory.empty(), u);
    }

    int hostToken(float[] logits, SamplingParams params, TokenHistory history, double u) {
        OneDraw draw = new OneDraw(u);
        int token = sampler.sample(logits, params, history, draw).tokenId();
        assertEquals(params.isGreedy() ? 0 : 1, draw.draws, "draws for " + params);
        return token;
    }

    void same(float[] logits, SamplingParams params, double u) {
        same(logits, params, TokenHistory.empty(), u);
    }

    void same(float[] logits, SamplingParams params, TokenHistory history, double u) {
        assertTrue(DeviceSampling.eligible(params, logits.length));
        OneDraw draw = new OneDraw(u);
        RowSampling row = DeviceSampling.row(params, draw, edits(params, history));
        assertEquals(params.isGreedy() ? 0 : 1, draw.draws, "DeviceSampling draws as the Sampler does");
        assertEquals(hostToken(logits, params, history, u), row.sample(logits), () -> params + ", u " + u
                + ", logits " + (logits.length <= 16 ? Arrays.toString(logits) : logits.length + " values"));
    }

    static LogitEdits edits(SamplingParams params, TokenHistory history) {
        LogitEditsTracker tracker = LogitEditsTracker.of(params);
        return tracker == null ? LogitEdits.NONE : tracker.edits(history);
    }

    /** A device row gets the host Sampler's processed logits (before temperature): edits and all, bit for bit. */
    void sameEditedLogits(float[] logits, SamplingParams params, TokenHistory history) {
        float[] edited = logits.clone();
        edits(params, history).apply(edited);
        double[] host = sampler.processedLogits(logits, params.withTemperature(1), history);
        for (int i = 0; i < logits.length; i++) {
            assertEquals(host[i], (double) edited[i], "token " + i + " under " + params);
        }
    }

    float[] row(int vocab, boolean ties, boolean banned) {
        float[] l = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            double g = Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble()) * 4;
            l[i] = ties ? Math.round(g) : (float) g;
            l[i] = banned && i % 3 == 2 ? Float.NEGATIVE_INFINITY : l[i];
        }
        return l;
    }

    @Test
    void randomRowsAndParameters() {
        double[] temperatures = {0, 1e-6, 0.2, 0.7, 1, 1.5, 2};
        int[] ks = {-1, 0, 1, 2, 7, 40, 256, 5000};
        double[] ps = {1, 0.999, 0.9, 0.5, 0.1, 1e-9};
        for (int i = 0; i < 3000; i++) {
            int vocab = i % 10 == 0 ? 32000 : 1 + rnd.nextInt(1000);
            float[] logits = row(vocab, i % 3 == 1, i % 4 == 2);
            SamplingParams p = SamplingParams.defaults().withTemperature(temperatures[rnd.nextInt(temperatures.length)])
                    .withTruncation(ks[rnd.nextInt(ks.length)], ps[rnd.nextInt(ps.length)], 0);
            double u = i % 9 == 0 ? Math.nextDown(1.0) : i % 9 == 1 ? 0 : rnd.nextDouble();
            same(logits, p, u);
        }
    }

    /**
     * Logit bias (bans and zero biases too) and repetition, presence and frequency penalties over random prompts
     * and outputs with repeats: the edited logits are the host's bit for bit, and the tokens the same.
     */
    @Test
    void randomEditsAndHistories() {
        double[] temperatures = {0, 0.7, 1, 1.3};
        double[] repetition = {1, 0.8, 1.1, 1.5};
        double[] penalties = {0, -0.5, 0.3, 1.7};
        for (int i = 0; i < 1500; i++) {
            int vocab = 2 + rnd.nextInt(i % 10 == 0 ? 5000 : 300);
            float[] logits = row(vocab, i % 3 == 1, i % 5 == 4);
            Map<Integer, Float> bias = new java.util.HashMap<>();
            for (int b = rnd.nextInt(4); b > 0; b--) {
                bias.put(rnd.nextInt(vocab), new float[]{-100, 0, 2.5f, -7.25f, 100}[rnd.nextInt(5)]);
            }
            int[] prompt = rnd.ints(rnd.nextInt(40), 0, Math.min(vocab, 30)).toArray();
            int[] output = rnd.ints(rnd.nextInt(40), 0, Math.min(vocab, 30)).toArray();
            TokenHistory history = TokenHistory.of(prompt, output);
            SamplingParams p = SamplingParams.defaults().withTemperature(temperatures[rnd.nextInt(temperatures.length)])
                    .withTruncation(new int[]{0, 5}[rnd.nextInt(2)], new double[]{1, 0.8}[rnd.nextInt(2)], 0)
                    .withPenalties(penalties[rnd.nextInt(penalties.length)], penalties[rnd.nextInt(penalties.length)],
                            repetition[rnd.nextInt(repetition.length)])
                    .withLogitBias(bias);
            sameEditedLogits(logits, p, history);
            try {
                same(logits, p, history, i % 7 == 0 ? 0 : rnd.nextDouble());
            } catch (IllegalStateException everyTokenBanned) {
                assertThrows(IllegalStateException.class, () -> hostToken(logits, p, history, 0.5));
            }
        }
    }

    /** Equal logits weigh exactly 1 each: top-p targets and draws land on the boundaries exactly. */
    @Test
    void exactBoundaries() {
        float inf = Float.NEGATIVE_INFINITY;
        float[] flat = new float[8];
        Arrays.fill(flat, 0.5f);
        List<float[]> rows = List.of(flat, new float[]{2, 2, 2, 2, inf, 1, 1, inf}, new float[]{3, inf, 3, 3});
        for (float[] logits : rows) {
            for (double u : new double[]{0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, Math.nextDown(1.0)}) {
                for (double p : new double[]{1, 0.75, 0.5, 0.25, 0.125}) {
                    for (int k : new int[]{-1, 1, 2, 3, 6}) {
                        for (double t : new double[]{0, 0.5, 1, 2}) {
                            same(logits, SamplingParams.defaults().withTemperature(t).withTruncation(k, p, 0), u);
                        }
                    }
                }
            }
        }
    }

    @Test
    void brokenRowsFailOnBothSides() {
        SamplingParams p = SamplingParams.defaults().withSeed(1L);
        float[] nan = {1, Float.NaN, 0};
        assertThrows(IllegalArgumentException.class, () -> hostToken(nan, p, 0.5));
        assertThrows(IllegalArgumentException.class, () -> DeviceSampling.row(p, new OneDraw(0.5), LogitEdits.NONE).sample(nan));
        float[] banned = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        assertThrows(IllegalStateException.class, () -> hostToken(banned, p, 0.5));
        assertThrows(IllegalStateException.class, () -> DeviceSampling.row(p, new OneDraw(0.5), LogitEdits.NONE).sample(banned));
    }

    @Test
    void requestsThatNeedTheRawLogitsAreNotEligible() {
        SamplingParams plain = SamplingParams.defaults().withTemperature(0.7).withTruncation(40, 0.9, 0).withSeed(3L);
        assertTrue(DeviceSampling.eligible(plain, 100));
        assertTrue(DeviceSampling.eligible(SamplingParams.greedy(), 100));
        for (SamplingParams p : List.of(plain.withPenalties(0.1, 0, 1), plain.withPenalties(0, -0.1, 1),
                plain.withPenalties(0, 0, 1.1), plain.withLogitBias(Map.of(1, 0.5f)),
                SamplingParams.greedy().withLogitBias(Map.of(99, -100f)))) {
            assertTrue(DeviceSampling.eligible(p, 100), p.toString());
        }
        assertTrue(DeviceSampling.editsFollowHistory(plain.withPenalties(0, 0, 1.1)));
        assertFalse(DeviceSampling.editsFollowHistory(plain.withLogitBias(Map.of(1, 0.5f))));
        assertFalse(DeviceSampling.eligible(plain.withLogitBias(Map.of(100, 1f)), 100), "a bias outside the vocabulary");
        List<SamplingParams> host = new ArrayList<>(List.of(
                plain.withLogprobs(0), plain.withLogprobs(5), plain.withTruncation(40, 0.9, 0.05)));
        for (SamplingParams p : host) {
            assertFalse(DeviceSampling.eligible(p, 100), p.toString());
            assertThrows(IllegalArgumentException.class, () -> DeviceSampling.row(p, new OneDraw(0.5), LogitEdits.NONE));
        }
    }
}

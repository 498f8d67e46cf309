package io.latentserve.server.engine.sample;

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
 * the same token for the same uniform, over random rows and parameters, ties, banned tokens and rows whose
 * sums are exact so that the top-p target and the draw land on boundaries on purpose.
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
        OneDraw draw = new OneDraw(u);
        int token = sampler.sample(logits, params, TokenHistory.empty(), draw).tokenId();
        assertEquals(params.isGreedy() ? 0 : 1, draw.draws, "draws for " + params);
        return token;
    }

    void same(float[] logits, SamplingParams params, double u) {
        assertTrue(DeviceSampling.eligible(params));
        OneDraw draw = new OneDraw(u);
        RowSampling row = DeviceSampling.row(params, draw);
        assertEquals(params.isGreedy() ? 0 : 1, draw.draws, "DeviceSampling draws as the Sampler does");
        assertEquals(hostToken(logits, params, u), row.sample(logits), () -> params + ", u " + u + ", logits "
                + (logits.length <= 16 ? Arrays.toString(logits) : logits.length + " values"));
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
        assertThrows(IllegalArgumentException.class, () -> DeviceSampling.row(p, new OneDraw(0.5)).sample(nan));
        float[] banned = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        assertThrows(IllegalStateException.class, () -> hostToken(banned, p, 0.5));
        assertThrows(IllegalStateException.class, () -> DeviceSampling.row(p, new OneDraw(0.5)).sample(banned));
    }

    @Test
    void onlyRequestsWithoutLogitEditsOrLogprobsAreEligible() {
        SamplingParams plain = SamplingParams.defaults().withTemperature(0.7).withTruncation(40, 0.9, 0).withSeed(3L);
        assertTrue(DeviceSampling.eligible(plain));
        assertTrue(DeviceSampling.eligible(SamplingParams.greedy()));
        List<SamplingParams> host = new ArrayList<>(List.of(
                plain.withLogprobs(0), plain.withLogprobs(5), plain.withTruncation(40, 0.9, 0.05),
                plain.withPenalties(0.1, 0, 1), plain.withPenalties(0, -0.1, 1), plain.withPenalties(0, 0, 1.1),
                plain.withLogitBias(Map.of(1, 0.5f)), SamplingParams.greedy().withLogitBias(Map.of(1, -100f))));
        for (SamplingParams p : host) {
            assertFalse(DeviceSampling.eligible(p), p.toString());
            assertThrows(IllegalArgumentException.class, () -> DeviceSampling.row(p, new OneDraw(0.5)));
        }
    }
}

package io.latentserve.server.engine.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TruncationTest {
    private final Truncation truncation = new Truncation();

    private int[] select(double[] logits, int k, double p, double minP) {
        int n = truncation.select(logits, logits.length, k, p, minP);
        return IntStream.range(0, n).map(truncation::candidate).toArray();
    }

    private static double[] fromProbabilities(double... p) {
        return Arrays.stream(p).map(x -> x == 0 ? Double.NEGATIVE_INFINITY : Math.log(x)).toArray();
    }

    /** The plain version: sort everything, then cut. */
    private static int[] reference(double[] x, int k, double p, double minP) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            if (x[i] > Double.NEGATIVE_INFINITY) {
                ids.add(i);
            }
        }
        ids.sort((a, b) -> x[a] != x[b] ? Double.compare(x[b], x[a]) : a - b);
        if (k > 0 && k < ids.size()) {
            ids = ids.subList(0, k);
        }
        double max = x[ids.getFirst()];
        if (p < 1) {
            double mass = ids.stream().mapToDouble(i -> Math.exp(x[i] - max)).sum();
            double cum = 0;
            int keep = 0;
            while (keep < ids.size() && cum < p * mass) {
                cum += Math.exp(x[ids.get(keep++)] - max);
            }
            ids = ids.subList(0, keep);
        }
        return ids.stream().mapToInt(Integer::intValue).filter(i -> x[i] >= max + Math.log(minP)).toArray();
    }

    @Test
    void topPKeepsExactlyTheSmallestNucleus() {
        double[] x = fromProbabilities(0.05, 0.3, 0, 0.15, 0.5);
        assertArrayEquals(new int[] {4}, select(x, -1, 0.45, 0));
        assertArrayEquals(new int[] {4, 1}, select(x, -1, 0.75, 0));
        assertArrayEquals(new int[] {4, 1, 3}, select(x, -1, 0.85, 0));
        assertArrayEquals(new int[] {4, 1, 3, 0}, select(x, -1, 0.99, 0));
    }

    @Test
    void topPAppliesToTheTopKDistribution() {
        double[] x = fromProbabilities(0.05, 0.3, 0, 0.15, 0.5);
        // top-k 2 renormalizes 0.5, 0.3 to 0.625, 0.375: top-p 0.6 then keeps only the first.
        assertArrayEquals(new int[] {4}, select(x, 2, 0.6, 0));
        assertArrayEquals(new int[] {4, 1}, select(x, 2, 0.7, 0));
    }

    @Test
    void topKKeepsTheKLargestLowestIdFirstOnTies() {
        double[] x = {1, 3, 3, 2, 3};
        assertArrayEquals(new int[] {1, 2}, select(x, 2, 1, 0));
        assertArrayEquals(new int[] {1, 2, 4, 3}, select(x, 4, 1, 0));
        assertEquals(5, select(x, 10, 1, 0).length);
    }

    @Test
    void minPKeepsTokensWithinAFactorOfTheBest() {
        double[] x = fromProbabilities(0.05, 0.3, 0, 0.15, 0.5);
        assertArrayEquals(new int[] {1, 3, 4}, select(x, -1, 1, 0.2));
        assertArrayEquals(new int[] {4}, select(x, -1, 1, 0.7));
        assertArrayEquals(new int[] {4, 1}, select(x, 3, 1, 0.5));
    }

    @Test
    void noTruncationKeepsEveryFiniteTokenInIdOrder() {
        double[] x = fromProbabilities(0.05, 0.3, 0, 0.15, 0.5);
        assertArrayEquals(new int[] {0, 1, 3, 4}, select(x, -1, 1, 0));
        assertArrayEquals(new int[] {0, 1, 3, 4}, select(x, 0, 1, 0));
        assertThrows(IllegalStateException.class, () -> select(new double[] {Double.NEGATIVE_INFINITY}, -1, 1, 0));
    }

    @Test
    void matchesAFullSortOnADeepSeekSizedVocabulary() {
        for (double spread : new double[] {0.5, 2, 8}) { // flat to peaked distributions
            SplittableRandom r = new SplittableRandom(17);
            double[] x = new double[102_400];
            for (int i = 0; i < x.length; i++) {
                x[i] = i % 97 == 0 ? Double.NEGATIVE_INFINITY : r.nextGaussian() * spread;
            }
            x[5] = x[6] = x[7] = x[8]; // some ties
            double[][] settings = {{50, 1, 0}, {-1, 0.9, 0}, {-1, 0.5, 0.05}, {1000, 0.95, 0.01}, {40, 0.8, 0},
                {-1, 1, 0.02}, {-1, 0.999, 0}, {100_000, 1, 0}, {1, 1, 0}};
            for (double[] s : settings) {
                int k = (int) s[0];
                assertArrayEquals(sortIfUnordered(reference(x, k, s[1], s[2]), k, s[1]), select(x, k, s[1], s[2]),
                        "spread " + spread + ", top_k " + k + ", top_p " + s[1] + ", min_p " + s[2]);
            }
        }
    }

    @Test
    void weightsAreExpOfTheGapToTheBest() {
        double[] x = {1, 3, Double.NEGATIVE_INFINITY, 2};
        for (int k : new int[] {-1, 2}) {
            int n = truncation.select(x, x.length, k, 1, 0);
            for (int j = 0; j < n; j++) {
                assertEquals(Math.exp(x[truncation.candidate(j)] - 3), truncation.weight(j), 1e-15);
            }
        }
    }

    // Without top-k or top-p the fast path keeps id order; the reference is in rank order.
    private static int[] sortIfUnordered(int[] ids, int k, double p) {
        return k <= 0 && p >= 1 ? IntStream.of(ids).sorted().toArray() : ids;
    }
}

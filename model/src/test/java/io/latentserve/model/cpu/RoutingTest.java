package io.latentserve.model.cpu;

import io.latentserve.model.backend.MoeRouting;
import io.latentserve.model.backend.RouterConfig;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DeepSeek-V2 routing rules (MODEL_SPEC 3.4) on crafted scores and against a brute-force reference. */
class RoutingTest {

    @Test
    void groupLimitedGreedyOnlyPicksFromTheBestGroups() {
        // 8 experts in 4 groups of 2; group maxima 0.9 (g0), 0.5 (g1), 0.8 (g2), 0.7 (g3); keep 2 groups.
        float[] scores = {0.9f, 0.1f, 0.5f, 0.45f, 0.2f, 0.8f, 0.7f, 0.6f};
        float[] masked = MoeCpu.keepBestGroups(scores, new RouterConfig(8, 3, true, 4, 2, false, 1f));
        for (int e : new int[]{2, 3, 6, 7}) {
            assertEquals(Float.NEGATIVE_INFINITY, masked[e], "expert " + e + " is outside the two best groups");
        }
        assertEquals(0.9f, masked[0]);
        assertEquals(0.8f, masked[5]);
    }

    @Test
    void routeMatchesBruteForceSoftmaxTopK() {
        SplittableRandom rnd = new SplittableRandom(3);
        try (Arena arena = Arena.ofShared()) {
            CpuWeight gate = MatmulTest.randomWeight(arena, rnd, 16, 32, io.latentserve.model.checkpoint.DType.BF16);
            CpuActivation x = CpuActivation.allocate(5, 32);
            for (int i = 0; i < x.data().length; i++) {
                x.data()[i] = (float) rnd.nextGaussian();
            }
            for (boolean norm : new boolean[]{false, true}) {
                RouterConfig cfg = new RouterConfig(16, 4, true, 4, 2, norm, 2.5f);
                MoeRouting r = new MoeCpu(new Parallel(1)).route(x, gate, cfg);
                for (int t = 0; t < 5; t++) {
                    checkToken(x, gate, cfg, r, t);
                }
            }
        }
    }

    private static void checkToken(CpuActivation x, CpuWeight gate, RouterConfig cfg, MoeRouting r, int t) {
        double[] s = new double[16];
        double max = Double.NEGATIVE_INFINITY;
        for (int e = 0; e < 16; e++) {
            for (int k = 0; k < 32; k++) {
                s[e] += x.get(t, k) * gate.get(e, k);
            }
            max = Math.max(max, s[e]);
        }
        double sum = 0;
        for (int e = 0; e < 16; e++) {
            s[e] = Math.exp(s[e] - max);
            sum += s[e];
        }
        double[] groupMax = new double[4];
        for (int e = 0; e < 16; e++) {
            s[e] /= sum;
            groupMax[e / 4] = Math.max(groupMax[e / 4], s[e]);
        }
        double[] sortedGroups = groupMax.clone();
        Arrays.sort(sortedGroups);
        double groupCut = sortedGroups[2]; // the 2 best groups survive
        Integer[] order = new Integer[16];
        for (int e = 0; e < 16; e++) {
            order[e] = e;
        }
        Arrays.sort(order, (a, b) -> Double.compare(eligible(s, groupMax, groupCut, b), eligible(s, groupMax, groupCut, a)));
        int[] expected = {order[0], order[1], order[2], order[3]};
        int[] actual = Arrays.copyOfRange(r.experts(), t * 4, t * 4 + 4);
        Arrays.sort(expected);
        int[] sortedActual = actual.clone();
        Arrays.sort(sortedActual);
        assertArrayEquals(expected, sortedActual, "token " + t);
        double picked = 0;
        for (int e : actual) {
            picked += s[e];
        }
        for (int k = 0; k < 4; k++) {
            double w = cfg.normTopkProb() ? s[actual[k]] / picked : s[actual[k]] * cfg.routedScalingFactor();
            assertEquals(w, r.weights()[t * 4 + k], 1e-5);
        }
        assertTrue(r.weights()[t * 4] > 0);
    }

    private static double eligible(double[] s, double[] groupMax, double cut, int e) {
        return groupMax[e / 4] >= cut ? s[e] : -1;
    }
}

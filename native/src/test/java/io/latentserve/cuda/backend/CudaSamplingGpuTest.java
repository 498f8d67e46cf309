package io.latentserve.cuda.backend;

import io.latentserve.model.backend.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Greedy, top-k and top-p sampling on the device against {@link SamplingReference}: the same token for the same draw. */
@Tag("gpu")
class CudaSamplingGpuTest {
    static GpuBackends b;
    final SplittableRandom rnd = new SplittableRandom(5);

    @BeforeAll
    static void open() {
        b = GpuBackends.open(1, 1, 2);
    }

    @AfterAll
    static void close() {
        if (b != null) {
            b.close();
        }
    }

    void check(String what, int rows, int vocab, double temperature, int topK, double topP, boolean ties, boolean banned) {
        float[] logits = GpuBackends.gaussian(rnd, rows * vocab, 4);
        if (ties) {
            for (int i = 0; i < logits.length; i++) {
                logits[i] = Math.round(logits[i]);
            }
        }
        if (banned) {
            for (int i = 0; i < logits.length; i += 3) {
                logits[i] = Float.NEGATIVE_INFINITY;
            }
        }
        double[] temps = new double[rows];
        int[] ks = new int[rows];
        double[] ps = new double[rows];
        double[] us = new double[rows];
        Arrays.fill(temps, temperature);
        Arrays.fill(ks, topK);
        Arrays.fill(ps, topP);
        for (int r = 0; r < rows; r++) {
            us[r] = rnd.nextDouble();
        }
        Tensor t = b.cuda.fromHost(logits, rows, vocab);
        int[] got = b.cuda.sample(t, temps, ks, ps, us);
        int mismatches = 0;
        for (int r = 0; r < rows; r++) {
            int want = SamplingReference.sample(Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab), temperature,
                    topK, topP, us[r]);
            if (got[r] != want) {
                mismatches++;
                System.out.println(what + " row " + r + ": GPU " + got[r] + ", reference " + want);
            }
        }
        GpuReport.checkExact("ls_sample (" + what + ")", rows + " rows x " + vocab + ", T " + temperature + ", k "
                + topK + ", p " + topP + (ties ? ", ties" : "") + (banned ? ", -inf" : ""), mismatches, rows);
    }

    @Test
    void greedy() {
        check("greedy", 64, 1000, 0, 0, 1, false, false);
        check("greedy", 8, 102400, 0, 0, 1, true, true);
        check("greedy", 3, 1, 0, 0, 1, false, false);
    }

    @Test
    void topK() {
        check("top-k", 64, 1000, 1, 1, 1, false, false);
        check("top-k", 64, 1000, 0.7, 5, 1, true, false);
        check("top-k", 16, 102400, 1.3, 50, 1, false, true);
    }

    @Test
    void topP() {
        check("top-p", 64, 1000, 1, 0, 0.9, false, false);
        check("top-p", 32, 102400, 0.8, 0, 0.95, true, true);
        check("top-k+top-p", 32, 102400, 1, 40, 0.5, false, false);
    }

    @Test
    void plainTemperature() {
        check("temperature", 64, 1000, 1, 0, 1, false, false);
        check("temperature", 16, 102400, 2, 0, 1, false, true);
    }
}

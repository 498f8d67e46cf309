package io.latentserve.cuda.backend;

import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;
import io.latentserve.model.backend.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * ls_sample against {@link RowSampling#sample}, the plain form of its rules (the server's SamplerRulesTest
 * holds the host Sampler to the same rules): the same token for the same draw, for fixed and for random
 * per-row parameters, ties, banned tokens and rows whose sums are exact so that every boundary is hit.
 */
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

    float[] logits(int rows, int vocab, boolean ties, boolean banned) {
        float[] logits = GpuBackends.gaussian(rnd, rows * vocab, 4);
        for (int i = 0; i < logits.length; i++) {
            logits[i] = ties ? Math.round(logits[i]) : logits[i];
            logits[i] = banned && i % 3 == 0 ? Float.NEGATIVE_INFINITY : logits[i];
        }
        return logits;
    }

    /** Samples every row on the device and counts the rows whose token differs from the reference's. */
    static int mismatches(String what, float[] logits, int vocab, RowSampling[] rows) {
        Tensor t = b.cuda.fromHost(logits, rows.length, vocab);
        SampledRows got = b.cuda.sampleRows(t, rows);
        int mismatches = 0;
        for (int r = 0; r < rows.length; r++) {
            int want = rows[r].sample(Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab));
            if (got.tokens()[r] != want) {
                mismatches++;
                System.out.println(what + " row " + r + " " + rows[r] + ": GPU " + got.tokens()[r] + ", reference " + want);
            }
        }
        return mismatches;
    }

    void check(String what, int rows, int vocab, double temperature, int topK, double topP, boolean ties, boolean banned) {
        float[] logits = logits(rows, vocab, ties, banned);
        RowSampling[] sampling = new RowSampling[rows];
        for (int r = 0; r < rows; r++) {
            sampling[r] = new RowSampling(temperature, topK, topP, rnd.nextDouble());
        }
        GpuReport.checkExact("ls_sample (" + what + ")", rows + " rows x " + vocab + ", T " + temperature + ", k "
                + topK + ", p " + topP + (ties ? ", ties" : "") + (banned ? ", -inf" : ""),
                mismatches(what, logits, vocab, sampling), rows);
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

    /**
     * More valid tokens than the candidate list holds (1024 at 6 entries per thread): top-p's nucleus inside the
     * list and past it (flat rows), top-k inside and beyond it, so the searches read the list, the row, or both.
     */
    @Test
    void candidateListSmallerThanTheRow() {
        check("top-p, list", 4, 3000, 0.7, 0, 0.95, false, false);
        check("top-p past the list", 4, 3000, 2, 0, 0.999, false, true);
        check("top-k beyond the list", 4, 3000, 1, 1500, 1, true, false);
        check("top-k beyond the list + top-p", 4, 3000, 2, 1200, 0.9, false, false);
    }

    @Test
    void plainTemperature() {
        check("temperature", 64, 1000, 1, 0, 1, false, false);
        check("temperature", 16, 102400, 2, 0, 1, false, true);
    }

    /** Every row its own parameters, as a mixed batch has them: small vocabularies, many rows. */
    @Test
    void randomParametersPerRow() {
        double[] temperatures = {0, 0.2, 0.7, 1, 1.5, 2};
        int[] ks = {-1, 0, 1, 2, 7, 40, 256};
        double[] ps = {1, 0.999, 0.9, 0.5, 0.1, 1e-9};
        int total = 0;
        int mismatches = 0;
        for (int batch = 0; batch < 4; batch++) {
            int rows = 48;
            int vocab = batch % 2 == 0 ? 257 : 1000;
            float[] logits = logits(rows, vocab, batch >= 2, batch == 1 || batch == 3);
            RowSampling[] sampling = new RowSampling[rows];
            for (int r = 0; r < rows; r++) {
                sampling[r] = new RowSampling(temperatures[rnd.nextInt(temperatures.length)], ks[rnd.nextInt(ks.length)],
                        ps[rnd.nextInt(ps.length)], r % 8 == 0 ? Math.nextDown(1.0) : r % 8 == 1 ? 0 : rnd.nextDouble());
            }
            mismatches += mismatches("random", logits, vocab, sampling);
            total += rows;
        }
        GpuReport.checkExact("ls_sample (random per row)", total + " rows x 257/1000, ties, -inf", mismatches, total);
    }

    /**
     * Rows of equal logits weigh 1 per token, so every sum is exact and the boundaries are hit on purpose:
     * a top-p target reached exactly, top-k through a tie, the uniform 0 and the largest double below 1.
     */
    @Test
    void exactBoundaries() {
        float inf = Float.NEGATIVE_INFINITY;
        float[] flat = new float[8];
        Arrays.fill(flat, 0.5f);
        float[] half = {2, 2, 2, 2, inf, 1, 1, inf};
        double below1 = Math.nextDown(1.0);
        List<float[]> rows = new ArrayList<>();
        List<RowSampling> sampling = new ArrayList<>();
        for (double u : new double[]{0, 0.25, 0.375, 0.5, 0.625, below1}) {
            for (double p : new double[]{1, 0.75, 0.5, 0.125}) {
                for (int k : new int[]{0, 1, 3, 6}) {
                    rows.add(flat);
                    sampling.add(new RowSampling(1, k, p, u));
                    rows.add(half);
                    sampling.add(new RowSampling(k == 6 ? 0.5 : 1, k, p, u));
                }
            }
        }
        float[] logits = new float[rows.size() * 8];
        for (int r = 0; r < rows.size(); r++) {
            System.arraycopy(rows.get(r), 0, logits, r * 8, 8);
        }
        GpuReport.checkExact("ls_sample (exact boundaries)", rows.size() + " rows x 8, equal weights",
                mismatches("exact", logits, 8, sampling.toArray(RowSampling[]::new)), rows.size());
    }

    @Test
    void brokenRowsFailAsOnTheHost() {
        RowSampling[] one = {new RowSampling(1, 0, 1, 0.5)};
        for (float bad : new float[]{Float.NaN, Float.POSITIVE_INFINITY}) {
            float[] row = {1, 0, bad, 0};
            assertThrows(IllegalArgumentException.class, () -> one[0].sample(row));
            assertThrows(IllegalArgumentException.class, () -> b.cuda.sampleRows(b.cuda.fromHost(row, 1, 4), one));
        }
        float[] banned = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        assertThrows(IllegalStateException.class, () -> b.cuda.sampleRows(b.cuda.fromHost(banned, 1, 2), one));
    }

    /** Rows without parameters come back as logits, bit for bit, the others as the reference's tokens. */
    @Test
    void sampleRowsSplitsDeviceAndHostRows() {
        int rows = 7;
        int vocab = 300;
        float[] logits = logits(rows, vocab, false, false);
        RowSampling[] sampling = new RowSampling[rows];
        for (int r : new int[]{0, 1, 4, 6}) {
            sampling[r] = r == 4 ? RowSampling.greedy() : new RowSampling(0.8, 20, 0.9, rnd.nextDouble());
        }
        SampledRows got = b.cuda.sampleRows(b.cuda.fromHost(logits, rows, vocab), sampling);
        for (int r = 0; r < rows; r++) {
            float[] row = Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab);
            if (sampling[r] == null) {
                assertEquals(SampledRows.NOT_SAMPLED, got.tokens()[r]);
                assertArrayEquals(row, got.hostLogits()[r], "row " + r);
            } else {
                assertEquals(sampling[r].sample(row), got.tokens()[r], "row " + r);
                assertNull(got.hostLogits()[r]);
            }
        }
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.model.backend.LogitEdits;
import io.latentserve.model.backend.PendingRows;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;
import io.latentserve.model.backend.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rows with logit edits (bias, repetition / presence / frequency penalties) sampled on the device, ls_logit_edits
 * then ls_sample, against {@link RowSampling#sample} (which applies {@link LogitEdits} on the host first): the same
 * token for every row, through the synchronous and the deferred (async scheduling) paths. Vocabularies are small
 * enough for the emulator (cuda-kernels/emulate/run-java.sh).
 */
@Tag("gpu")
class CudaLogitEditsGpuTest {
    static GpuBackends b;
    final SplittableRandom rnd = new SplittableRandom(11);

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

    /** The device's tokens (sampleRows, or launchSampleRows then await when deferred). */
    static int[] deviceTokens(float[] logits, int vocab, RowSampling[] rows, boolean deferred) {
        Tensor t = b.cuda.fromHost(logits, rows.length, vocab);
        SampledRows got = deferred ? b.cuda.launchSampleRows(t, rows, null).await() : b.cuda.sampleRows(t, rows);
        return got.tokens();
    }

    static int[] referenceTokens(float[] logits, int vocab, RowSampling[] rows) {
        int[] want = new int[rows.length];
        for (int r = 0; r < rows.length; r++) {
            want[r] = rows[r].sample(Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab));
        }
        return want;
    }

    /** Samples on the device and counts the rows whose token differs from the reference's. */
    static int mismatches(String what, float[] logits, int vocab, RowSampling[] rows, boolean deferred) {
        int[] got = deviceTokens(logits, vocab, rows, deferred);
        int[] want = referenceTokens(logits, vocab, rows);
        int mismatches = 0;
        for (int r = 0; r < rows.length; r++) {
            if (got[r] != want[r]) {
                mismatches++;
                System.out.println(what + " row " + r + " " + rows[r] + ": GPU " + got[r] + ", reference " + want[r]);
            }
        }
        return mismatches;
    }

    static int argmax(float[] logits, int from, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) {
            best = logits[from + i] > logits[from + best] ? i : best;
        }
        return best;
    }

    /** Random edits of n distinct tokens (the first one `first`): biases incl. bans, counts above 1, seen flags. */
    LogitEdits randomEdits(int vocab, int n, int first, double repetition, double presence, double frequency) {
        int[] ids = new int[vocab];
        Arrays.setAll(ids, i -> i);
        ids[first] = 0;
        ids[0] = first;
        for (int i = 1; i < n; i++) {
            int j = i + rnd.nextInt(vocab - i);
            int x = ids[i];
            ids[i] = ids[j];
            ids[j] = x;
        }
        int[] tokens = Arrays.copyOf(ids, n);
        float[] bias = new float[n];
        int[] generated = new int[n];
        boolean[] seen = new boolean[n];
        for (int i = 0; i < n; i++) {
            double u = rnd.nextDouble();
            bias[i] = u < 0.5 ? 0 : u < 0.55 ? LogitEdits.BAN : (float) (rnd.nextDouble() * 10 - 5);
            generated[i] = i % 3 == 0 ? 0 : rnd.nextInt(5);
            seen[i] = generated[i] > 0 || rnd.nextBoolean();
        }
        return new LogitEdits(tokens, bias, generated, seen, repetition, presence, frequency);
    }

    /**
     * The edited logits themselves (ls_logit_edits works in place, so the tensor holds them after sampling) are
     * LogitEdits.apply's, bit for bit: every stage, penalties above and below 1, negative and zero logits, -inf
     * logits, random biases; the rows' other logits unchanged.
     */
    @Test
    void editedLogitsAreLogitEditsApplyBitForBit() {
        int rows = 6;
        int vocab = 2000;
        float[] logits = GpuBackends.gaussian(rnd, rows * vocab, 4);
        for (int i = 0; i < logits.length; i += 97) {
            logits[i] = i % 2 == 0 ? 0f : Float.NEGATIVE_INFINITY;
        }
        double[] repetitions = {1.3, 0.7, 1, 1.05, 2, 1.1};
        RowSampling[] sampling = new RowSampling[rows];
        for (int r = 0; r < rows; r++) {
            sampling[r] = RowSampling.greedy().withEdits(randomEdits(vocab, r == 2 ? 0 : 300 + 100 * r, 0,
                    repetitions[r], r * 0.3 - 0.6, 0.45 - r * 0.2));
        }
        Tensor t = b.cuda.fromHost(logits, rows, vocab);
        b.cuda.sampleRows(t, sampling);
        float[] got = b.cuda.toHost(t);
        int differ = 0;
        for (int r = 0; r < rows; r++) {
            float[] want = Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab);
            sampling[r].edits().apply(want);
            for (int i = 0; i < vocab; i++) {
                differ += Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[r * vocab + i]) ? 1 : 0;
            }
        }
        GpuReport.checkExact("ls_logit_edits (edited logits)", rows + " rows x " + vocab + ", bits of every logit",
                differ, rows * vocab);
    }

    /** A ban on each row's argmax: greedy must take another token, the reference's. */
    @Test
    void greedyWithABanOfTheArgmax() {
        int rows = 8;
        int vocab = 1000;
        float[] logits = GpuBackends.gaussian(rnd, rows * vocab, 4);
        RowSampling[] sampling = new RowSampling[rows];
        for (int r = 0; r < rows; r++) {
            int best = argmax(logits, r * vocab, vocab);
            float ban = r % 2 == 0 ? LogitEdits.BAN : -250f;
            sampling[r] = RowSampling.greedy().withEdits(new LogitEdits(new int[]{best, (best + 1) % vocab},
                    new float[]{ban, 0.5f}, new int[2], new boolean[2], 1, 0, 0));
        }
        int[] got = deviceTokens(logits, vocab, sampling, false);
        for (int r = 0; r < rows; r++) {
            assertNotEquals(argmax(logits, r * vocab, vocab), got[r], "row " + r + " took its banned argmax");
        }
        assertArrayEquals(referenceTokens(logits, vocab, sampling), got);
        GpuReport.checkExact("ls_logit_edits + ls_sample (greedy, ban)", rows + " rows x " + vocab + ", argmax banned",
                mismatches("ban", logits, vocab, sampling, true), rows);
    }

    /**
     * The repetition penalty moves the leader below the runner-up: a positive leader divided, a negative one (every
     * logit negative) multiplied; presence and frequency over counts above 1 do the same.
     */
    @Test
    void penaltiesFlipTheArgmax() {
        int vocab = 1200;
        float[] logits = new float[4 * vocab];
        Arrays.fill(logits, 0, vocab, 1f);
        Arrays.fill(logits, vocab, 2 * vocab, -3f);
        Arrays.fill(logits, 2 * vocab, 4 * vocab, 0f);
        int[] leader = {7, 700, 1100, 3};
        int[] second = {900, 20, 5, 1000};
        float[][] pair = {{5f, 4.5f}, {-1f, -1.2f}, {2f, 1.5f}, {2f, 1.9f}};
        for (int r = 0; r < 4; r++) {
            logits[r * vocab + leader[r]] = pair[r][0];
            logits[r * vocab + second[r]] = pair[r][1];
        }
        RowSampling[] sampling = {
            RowSampling.greedy().withEdits(new LogitEdits(new int[]{leader[0]}, new float[1], new int[1],
                    new boolean[]{true}, 1.3, 0, 0)),
            RowSampling.greedy().withEdits(new LogitEdits(new int[]{leader[1], 0}, new float[2], new int[2],
                    new boolean[]{true, true}, 1.3, 0, 0)),
            RowSampling.greedy().withEdits(new LogitEdits(new int[]{leader[2], second[2]}, new float[2],
                    new int[]{3, 0}, new boolean[]{true, true}, 1, 0.1, 0.2)),   // 2 - (0.2 * 3 + 0.1) < 1.5
            RowSampling.greedy().withEdits(new LogitEdits(new int[]{leader[3]}, new float[1], new int[]{2},
                    new boolean[]{true}, 1, 0.05, 0)),                           // presence once: 1.95 > 1.9
        };
        int[] got = deviceTokens(logits, vocab, sampling, false);
        assertArrayEquals(new int[]{second[0], second[1], second[2], leader[3]}, got);
        assertArrayEquals(referenceTokens(logits, vocab, sampling), got);
    }

    /** Temperature, top-k and top-p rows with random edits, every row its own parameters; both paths. */
    @Test
    void temperatureTopKTopPWithEdits() {
        double[] temperatures = {0, 0.5, 0.8, 1, 1.4};
        int[] ks = {0, 1, 5, 40};
        double[] ps = {1, 0.95, 0.8, 0.3};
        double[] repetitions = {1, 1.1, 1.5, 0.8};
        int total = 0;
        int mismatches = 0;
        for (int batch = 0; batch < 4; batch++) {
            int rows = 12;
            int vocab = batch < 2 ? 1000 : 3000;
            float[] logits = GpuBackends.gaussian(rnd, rows * vocab, 3);
            if (batch % 2 == 1) {
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = Math.round(logits[i] * 2) / 2f;   // ties
                }
            }
            RowSampling[] sampling = new RowSampling[rows];
            for (int r = 0; r < rows; r++) {
                LogitEdits edits = randomEdits(vocab, 1 + rnd.nextInt(400), argmax(logits, r * vocab, vocab),
                        repetitions[rnd.nextInt(repetitions.length)], rnd.nextDouble() * 2 - 1, rnd.nextDouble() * 2 - 1);
                sampling[r] = new RowSampling(temperatures[rnd.nextInt(temperatures.length)], ks[rnd.nextInt(ks.length)],
                        ps[rnd.nextInt(ps.length)], rnd.nextDouble(), edits);
            }
            mismatches += mismatches("random edits", logits, vocab, sampling, batch % 2 == 0);
            total += rows;
        }
        GpuReport.checkExact("ls_logit_edits + ls_sample (random per row)", total + " rows x 1000/3000, T/k/p, edits",
                mismatches, total);
    }

    /**
     * Async scheduling: edits that count a token of the previous launched pass (LogitEdits.pendingRow) read it from
     * that pass's device buffer. Row 0's pending token is among its entries (one more occurrence), row 1's is new
     * to its entries, row 2 has no entries but the pending token, row 3 samples at a temperature; each pending token
     * flips the greedy choice, so counting it (or not) shows. The same again through the synchronous fallback (a
     * host row beside, the previous pass still the latest) and through the host path (a previous pass the device
     * did not launch: its tokens are taken from its result).
     */
    @Test
    void pendingTokensOfThePreviousPass() {
        int vocab = 1500;
        float[] first = GpuBackends.gaussian(rnd, 4 * vocab, 4);
        RowSampling[] greedy = new RowSampling[4];
        Arrays.fill(greedy, RowSampling.greedy());
        int[] previous = new int[4];
        for (int r = 0; r < 4; r++) {
            previous[r] = argmax(first, r * vocab, vocab);
        }
        PendingRows pass1 = b.cuda.launchSampleRows(b.cuda.fromHost(first, 4, vocab), greedy, null);
        float[] second = new float[4 * vocab];
        for (int r = 0; r < 4; r++) {
            second[r * vocab + previous[r]] = 3f;                   // the leader: the pending token
            second[r * vocab + (previous[r] + 1) % vocab] = 2.7f;   // the runner-up
        }
        int p0 = previous[0];
        RowSampling[] sampling = {
            RowSampling.greedy().withEdits(new LogitEdits(new int[]{p0}, new float[1], new int[]{1},
                    new boolean[]{true}, 1, 0, 0.2).withPendingRow(0)),     // 3 - 0.2 leads, 3 - 0.4 does not
            RowSampling.greedy().withEdits(new LogitEdits(new int[]{(previous[1] + 2) % vocab}, new float[]{1f},
                    new int[1], new boolean[1], 1.3, 0, 0).withPendingRow(1)),   // 3 / 1.3 < 2.7
            RowSampling.greedy().withEdits(new LogitEdits(new int[0], new float[0], new int[0], new boolean[0], 1,
                    0.4, 0).withPendingRow(2)),                              // 3 - 0.4 < 2.7
            new RowSampling(0.7, 0, 1, 0.5, new LogitEdits(new int[0], new float[0], new int[0], new boolean[0],
                    1.2, 0, 0).withPendingRow(3)),
        };
        int[] want = new int[4];
        for (int r = 0; r < 4; r++) {
            float[] row = Arrays.copyOfRange(second, r * vocab, (r + 1) * vocab);
            want[r] = sampling[r].sample(row, previous[r]);
            if (r < 3) {
                assertEquals((previous[r] + 1) % vocab, want[r], "row " + r + ": the pending token's penalty flips it");
                LogitEdits e = sampling[r].edits();
                LogitEdits notCounted = new LogitEdits(e.tokens(), e.bias(), e.generated(), e.seen(),
                        e.repetitionPenalty(), e.presencePenalty(), e.frequencyPenalty());
                assertEquals(previous[r], sampling[r].withEdits(notCounted).sample(row), "row " + r + " without it");
            }
        }
        PendingRows pass2 = b.cuda.launchSampleRows(b.cuda.fromHost(second, 4, vocab), sampling, pass1);
        assertArrayEquals(previous, pass1.await().tokens(), "pass 1: greedy");
        assertArrayEquals(want, pass2.await().tokens(), "deferred: the pending tokens read on the device");

        RowSampling[] withHostRow = Arrays.copyOf(sampling, 5);   // row 4 for the host sampler: the synchronous path
        float[] third = Arrays.copyOf(second, 5 * vocab);
        PendingRows pass3 = b.cuda.launchSampleRows(b.cuda.fromHost(first, 4, vocab), greedy, null);
        pass3.await();
        SampledRows sync = b.cuda.launchSampleRows(b.cuda.fromHost(third, 5, vocab), withHostRow, pass3).await();
        assertArrayEquals(want, Arrays.copyOf(sync.tokens(), 4), "synchronous fallback, tokens on the device");
        assertEquals(SampledRows.NOT_SAMPLED, sync.tokens()[4]);

        PendingRows onHost = PendingRows.completed(new SampledRows(previous, new float[4][]));
        assertArrayEquals(want, b.cuda.launchSampleRows(b.cuda.fromHost(second, 4, vocab), sampling, onHost).await()
                .tokens(), "a previous pass the device did not launch: resolved on the host");
        assertThrows(IllegalArgumentException.class, () -> b.cuda.sampleRows(b.cuda.fromHost(second, 4, vocab),
                sampling), "without a previous pass, pending edits cannot be resolved");
        GpuReport.checkExact("ls_logit_edits (pending tokens of the previous pass)", "4 rows x " + vocab
                + ", deferred, synchronous and host-resolved", 0, 12);
    }

    /** Rows without edits beside rows with them: each the reference's token, the plain rows untouched. */
    @Test
    void rowsWithoutEditsBesideRowsWithEdits() {
        int rows = 6;
        int vocab = 2000;
        float[] logits = GpuBackends.gaussian(rnd, rows * vocab, 4);
        RowSampling[] sampling = new RowSampling[rows];
        for (int r = 0; r < rows; r++) {
            RowSampling plain = r % 3 == 0 ? RowSampling.greedy() : new RowSampling(0.9, 20, 0.9, rnd.nextDouble());
            sampling[r] = r % 2 == 0 ? plain : plain.withEdits(randomEdits(vocab, 50, argmax(logits, r * vocab, vocab),
                    1.2, 0.5, 0.5));
        }
        assertEquals(0, mismatches("mixed", logits, vocab, sampling, false));
        assertEquals(0, mismatches("mixed, deferred", logits, vocab, sampling, true));
    }

    /** A token outside the vocabulary: a clear error before anything runs, and the next call samples as usual. */
    @Test
    void tokenOutsideTheVocabularyIsRefused() {
        int vocab = 500;
        float[] logits = GpuBackends.gaussian(rnd, 2 * vocab, 4);
        LogitEdits bad = new LogitEdits(new int[]{3, vocab}, new float[]{1, 1}, new int[2], new boolean[2], 1, 0, 0);
        RowSampling[] sampling = {RowSampling.greedy(), RowSampling.greedy().withEdits(bad)};
        for (boolean deferred : new boolean[]{false, true}) {
            var e = assertThrows(IllegalArgumentException.class, () -> deviceTokens(logits, vocab, sampling, deferred));
            assertTrue(e.getMessage().contains("row 1") && e.getMessage().contains("token " + vocab), e.getMessage());
        }
        RowSampling[] good = {RowSampling.greedy(), RowSampling.greedy().withEdits(new LogitEdits(new int[]{3},
                new float[]{LogitEdits.BAN}, new int[1], new boolean[1], 1, 0, 0))};
        assertEquals(0, mismatches("after the error", logits, vocab, good, false));
        assertEquals(0, mismatches("after the error, deferred", logits, vocab, good, true));
    }
}

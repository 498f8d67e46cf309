package io.latentserve.cuda.bench;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.backend.CudaBackend;
import io.latentserve.model.backend.LogitEdits;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Device sampling (ls_sample, through CudaBackend.sample) of B rows of V logits, whole calls: the per-row
 * parameters go up, the tokens come down, as on the server's synchronous path. Logits are seeded Gaussians
 * (std 3: at temperature 0.7 the nucleus of top-p 0.95 is tens to hundreds of tokens, within the candidate list).
 */
final class SampleBench {
    /** The sampling settings timed: each takes a different way through the kernel. */
    enum Mode {
        /** temperature 0: the first pass over the row only */
        GREEDY(0, 0, 1),
        /** temperature 0.7, top-p 0.95: the candidate list, top-p's search and the draw over it */
        TOP_P(0.7, 0, 0.95),
        /** temperature 0.7, top-k 50: radix select, then the list holds exactly the candidates */
        TOP_K(0.7, 50, 1),
        /** temperature 0.7 alone: no truncation, the draw walks the row in id order (no list) */
        TEMPERATURE(0.7, 0, 1),
        /**
         * TOP_P with a chat client's penalties (repetition 1.1, presence and frequency 0.1) over a 4K-token history
         * per row ({@link #HISTORY_TOKENS} distinct tokens, {@link #GENERATED_TOKENS} of them generated): the logit
         * edits packed, uploaded and applied by ls_logit_edits, through CudaBackend.sampleRows as the engine calls it
         */
        TOP_P_PENALTIES(0.7, 0, 0.95);

        final double temperature;
        final int topK;
        final double topP;

        Mode(double temperature, int topK, double topP) {
            this.temperature = temperature;
            this.topK = topK;
            this.topP = topP;
        }

        String label() {
            return switch (this) {
                case GREEDY -> "greedy";
                case TOP_P -> "T 0.7, top-p 0.95";
                case TOP_K -> "T 0.7, top-k 50";
                case TEMPERATURE -> "T 0.7 only";
                case TOP_P_PENALTIES -> "T 0.7, top-p 0.95, penalties over " + HISTORY_TOKENS + " tokens";
            };
        }
    }

    record Result(Mode mode, int rows, int vocab, double secondsPerCall) {
        double rowsPerSecond() {
            return rows / secondsPerCall;
        }
    }

    /** Distinct tokens of a row's history in TOP_P_PENALTIES (a 4K-token prompt of text has ~1.5K). */
    static final int HISTORY_TOKENS = 1500;
    /** Of those, the generated ones (counted by presence and frequency). */
    static final int GENERATED_TOKENS = 200;

    private SampleBench() {
    }

    /** Times every mode at every batch size (best of 3 rounds of reps calls). */
    static List<Result> run(CudaContext ctx, CudaBackend backend, int[] batches, int vocab, int reps) {
        List<Result> results = new ArrayList<>();
        for (int rows : batches) {
            backend.beginForward();
            Tensor logits = backend.fromHost(gaussian(rows * vocab, rows), rows, vocab);
            SplittableRandom rnd = new SplittableRandom(vocab);
            double[] uniform = new double[rows];
            for (int r = 0; r < rows; r++) {
                uniform[r] = rnd.nextDouble();
            }
            for (Mode mode : Mode.values()) {
                double[] temperature = filled(rows, mode.temperature);
                int[] topK = new int[rows];
                Arrays.fill(topK, mode.topK);
                double[] topP = filled(rows, mode.topP);
                Runnable call = () -> backend.sample(logits, temperature, topK, topP, uniform);
                if (mode == Mode.TOP_P_PENALTIES) {
                    RowSampling[] sampling = new RowSampling[rows];
                    for (int r = 0; r < rows; r++) {
                        sampling[r] = new RowSampling(mode.temperature, mode.topK, mode.topP, uniform[r],
                                penalties(rnd, vocab));
                    }
                    call = () -> backend.sampleRows(logits, sampling);   // edits the logits in place: times alike
                }
                Timing timing = Timing.best(ctx, 3, reps, call);
                results.add(new Result(mode, rows, vocab, timing.secondsPerRep()));
            }
        }
        return results;
    }

    /** HISTORY_TOKENS distinct random tokens, all seen, GENERATED_TOKENS of them generated 1-3 times. */
    private static LogitEdits penalties(SplittableRandom rnd, int vocab) {
        int[] tokens = rnd.ints(0, vocab).distinct().limit(HISTORY_TOKENS).toArray();
        int[] generated = new int[HISTORY_TOKENS];
        for (int i = 0; i < GENERATED_TOKENS; i++) {
            generated[i] = 1 + rnd.nextInt(3);
        }
        boolean[] seen = new boolean[HISTORY_TOKENS];
        Arrays.fill(seen, true);
        return new LogitEdits(tokens, new float[HISTORY_TOKENS], generated, seen, 1.1, 0.1, 0.1);
    }

    private static float[] gaussian(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            // Box-Muller, std 3
            double u = 1 - rnd.nextDouble();
            v[i] = (float) (3 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble()));
        }
        return v;
    }

    private static double[] filled(int n, double value) {
        double[] a = new double[n];
        Arrays.fill(a, value);
        return a;
    }
}

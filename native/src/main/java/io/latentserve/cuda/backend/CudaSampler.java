package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.SampleParams;
import io.latentserve.model.backend.RowSampling;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Token sampling on the device (ls_sample): the logit bias and penalties first where rows have them
 * (ls_logit_edits, in place: {@link CudaLogitEdits}), then greedy, or temperature with top-k and top-p and an
 * inverse-CDF draw of a given uniform number, by the rules of {@link RowSampling#sample} (the server
 * Sampler's for requests without min-p or logprobs: those stay with the host sampler).
 */
final class CudaSampler {
    /** ls_sample's token for a row with a NaN or +inf logit. */
    private static final int BROKEN = -2;

    private final Kernels kernels;
    private final StepMemory memory;

    CudaSampler(Kernels kernels, StepMemory memory) {
        this.kernels = kernels;
        this.memory = memory;
    }

    /**
     * One token per row of logits [R, V].
     *
     * @param temperature per row; 0 (or below 1e-5, as SamplingParams rules) is greedy
     * @param topK        per row; 0 keeps every token
     * @param topP        per row; 1 keeps every token
     * @param uniform     per row, in [0, 1): the draw
     */
    int[] sample(CudaActivation logits, double[] temperature, int[] topK, double[] topP, double[] uniform) {
        return sample(logits, invTemperature(logits, temperature, topK, topP, uniform), topK, topP, uniform, null, 0);
    }

    /**
     * The checked parameters' tokens, the edits (null for none) applied to the logits first; previousTokens: the
     * previous pass's device tokens their pending rows name (0 for none).
     */
    private int[] sample(CudaActivation logits, double[] invTemperature, int[] topK, double[] topP, double[] uniform,
                         CudaLogitEdits edits, long previousTokens) {
        int rows = logits.rows();
        int[] tokens = new int[rows];
        if (rows == 0) {
            return tokens;
        }
        try (StepMemory.Scratch s = memory.scratch(); Arena host = Arena.ofConfined()) {
            long out = s.bytes(4L * rows);
            if (edits != null) {
                edits.launch(kernels, s, logits, previousTokens);
            }
            launch(s, logits, invTemperature, topK, topP, uniform, out);
            MemorySegment.copy(memory.download(out, 4L * rows, host), ValueLayout.JAVA_INT, 0, tokens, 0, rows);
        }
        check(tokens);
        return tokens;
    }

    /**
     * As {@link #sample(CudaActivation, RowSampling[])} (edits included), but the tokens come later: they are written to
     * deferred's device buffer (where the next pass may gather them) and their copy to the host is queued. Pending
     * rows of the edits name tokens of previous (the latest pass: its tokens are still in that buffer, read by
     * ls_logit_edits before ls_sample overwrites them, in stream order); null when no row has one.
     */
    DeferredTokens.Pass launch(CudaActivation logits, RowSampling[] rows, DeferredTokens deferred,
                               DeferredTokens.Pass previous) {
        Columns c = columns(rows);
        double[] invTemperature = invTemperature(logits, c.temperature, c.topK, c.topP, c.uniform);
        if (rows.length == 0) {
            throw new IllegalArgumentException("no rows to sample");
        }
        CudaLogitEdits edits = CudaLogitEdits.of(rows, logits.cols());
        long out = deferred.reserve(rows.length);
        try (StepMemory.Scratch s = memory.scratch()) {
            if (edits != null) {   // the previous tokens' address after reserve, which may move the buffer
                edits.launch(kernels, s, logits, edits.hasPending() ? previous.deviceTokens() : 0);
            }
            launch(s, logits, invTemperature, c.topK, c.topP, c.uniform, out);
        }
        return deferred.queueCopy(rows.length);
    }

    /**
     * One ls_sample launch. Rows at a temperature get the candidate list (96 KiB of shared memory: top-k, top-p and
     * the draw then read it instead of the row); an all-greedy launch needs one pass over each row and no list.
     */
    private void launch(StepMemory.Scratch s, CudaActivation logits, double[] invTemperature, int[] topK,
                        double[] topP, double[] uniform, long out) {
        boolean greedy = Arrays.stream(invTemperature).allMatch(v -> v == 0);
        int perThread = greedy ? 0 : KernelLimits.SAMPLE_LIST_PER_THREAD;
        kernels.launch(new SampleParams(logits.address(), s.doubles(invTemperature), s.ints(topK), s.doubles(topP),
                s.doubles(uniform), out, logits.rows(), logits.cols(), logits.stride(), perThread),
                Grid.of(logits.rows(), KernelLimits.SAMPLE_THREADS).withShared(KernelLimits.sampleSharedBytes(perThread)));
    }

    /** Checks the per-row parameters; 1 / temperature per row (0: greedy). */
    private static double[] invTemperature(CudaActivation logits, double[] temperature, int[] topK, double[] topP,
                                           double[] uniform) {
        int rows = logits.rows();
        if (temperature.length != rows || topK.length != rows || topP.length != rows || uniform.length != rows) {
            throw new IllegalArgumentException("sampling parameters for " + rows + " rows expected");
        }
        double[] invTemperature = new double[rows];
        for (int r = 0; r < rows; r++) {
            if (!(temperature[r] >= 0) || topK[r] < 0 || !(topP[r] > 0 && topP[r] <= 1)
                    || !(uniform[r] >= 0 && uniform[r] < 1)) {
                throw new IllegalArgumentException("row " + r + ": temperature " + temperature[r] + ", top-k " + topK[r]
                        + ", top-p " + topP[r] + ", uniform " + uniform[r]);
            }
            invTemperature[r] = temperature[r] < 1e-5 ? 0 : 1 / temperature[r];
        }
        if (logits.cols() < 1) {
            throw new IllegalArgumentException("no logits to sample from");
        }
        return invTemperature;
    }

    /** ls_sample's tokens, or the error of the first row it could not sample. */
    static void check(int[] tokens) {
        for (int r = 0; r < tokens.length; r++) {
            if (tokens[r] == BROKEN) {
                throw new IllegalArgumentException("row " + r + ": a logit is NaN or +inf, the model output is broken");
            }
            if (tokens[r] < 0) {
                throw new IllegalStateException("row " + r + ": no token can be sampled, every logit is -inf");
            }
        }
    }

    private record Columns(double[] temperature, int[] topK, double[] topP, double[] uniform) {
    }

    private static Columns columns(RowSampling[] rows) {
        int n = rows.length;
        Columns c = new Columns(new double[n], new int[n], new double[n], new double[n]);
        for (int r = 0; r < n; r++) {
            c.temperature[r] = rows[r].temperature();
            c.topK[r] = rows[r].topK();
            c.topP[r] = rows[r].topP();
            c.uniform[r] = rows[r].uniform();
        }
        return c;
    }

    /**
     * One token per row of logits [R, V], each row by its own {@link RowSampling}: its edits applied to the logits
     * in place (one ls_logit_edits launch when any row has edits), then ls_sample.
     *
     * @throws IllegalArgumentException for bad parameters or an edit's token outside the vocabulary, before
     *                                  anything is launched
     */
    int[] sample(CudaActivation logits, RowSampling[] rows) {
        return sample(logits, rows, 0);
    }

    /** As above; previousTokens: the previous pass's device tokens that pending rows of the edits name (0: none). */
    int[] sample(CudaActivation logits, RowSampling[] rows, long previousTokens) {
        Columns c = columns(rows);
        double[] invTemperature = invTemperature(logits, c.temperature, c.topK, c.topP, c.uniform);
        return sample(logits, invTemperature, c.topK, c.topP, c.uniform, CudaLogitEdits.of(rows, logits.cols()),
                previousTokens);
    }
}

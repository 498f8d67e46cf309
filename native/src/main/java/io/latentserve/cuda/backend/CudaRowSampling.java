package io.latentserve.cuda.backend;

import io.latentserve.model.backend.PendingRows;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;

import java.util.Arrays;
import java.util.function.Function;

/**
 * The end of a forward pass on logits: the rows with sampling parameters sampled on the device ({@link CudaSampler}),
 * now or with their tokens deferred ({@link DeferredTokens}, async scheduling), the others copied to the host for
 * the host sampler; each ends the step in {@link StepMemory} and the pass in {@link StepGraphs}.
 */
final class CudaRowSampling {
    private final StepGraphs graphs;
    private final StepMemory memory;
    private final CudaSampler sampler;
    private final DeferredTokens deferred;
    /** The activation's rows as host arrays, once the stream has computed them. */
    private final Function<CudaActivation, float[][]> downloadRows;

    CudaRowSampling(Kernels kernels, StepMemory memory, DeferredTokens deferred,
                    Function<CudaActivation, float[][]> downloadRows) {
        this.graphs = kernels.graphs();
        this.memory = memory;
        this.sampler = new CudaSampler(kernels, memory);
        this.deferred = deferred;
        this.downloadRows = downloadRows;
    }

    /**
     * Samples the rows that have parameters with ls_sample and copies only the others to the host, each run
     * of consecutive rows at once (the engine puts the sampled rows first: one launch, one copy). Ends the step.
     */
    SampledRows sampleRows(CudaActivation a, RowSampling[] sampling) {
        return sampleRows(a, sampling, null);
    }

    /** As above; previous: the latest launched pass, whose device tokens the edits' pending rows name (or null). */
    private SampledRows sampleRows(CudaActivation a, RowSampling[] sampling, DeferredTokens.Pass previous) {
        if (sampling.length != a.rows()) {
            throw new IllegalArgumentException(sampling.length + " sampling entries for " + a.rows() + " rows");
        }
        if (previous == null && hasPending(sampling)) {
            throw new IllegalArgumentException("logit edits count a token of a previous pass, which only"
                    + " launchSampleRows is given");
        }
        graphs.endPass();
        int rows = a.rows();
        int[] tokens = new int[rows];
        float[][] host = new float[rows][];
        for (int r = 0; r < rows; ) {
            boolean here = sampling[r] != null;
            int end = r + 1;
            while (end < rows && (sampling[end] != null) == here) {
                end++;
            }
            CudaActivation run = a.rowRange(r, end - r);
            if (here) {
                System.arraycopy(sampler.sample(run, Arrays.copyOfRange(sampling, r, end),
                        previous == null ? 0 : previous.deviceTokens()), 0, tokens, r, end - r);
            } else {
                System.arraycopy(downloadRows.apply(run), 0, host, r, end - r);
                Arrays.fill(tokens, r, end, SampledRows.NOT_SAMPLED);
            }
            r = end;
        }
        memory.endStep();
        return new SampledRows(tokens, host);
    }

    /**
     * Samples every row on the device and returns before the tokens reach the host: their copy is queued
     * behind ls_sample with an event that await() waits for (see {@link DeferredTokens}), and the next pass may
     * begin at once (see {@link StepMemory}). Rows for the host sampler make it {@link #sampleRows}: their
     * logits must come to the host anyway. Edits that count a token of previous read it from the device buffer
     * while previous is the latest launched pass, else from its host result (awaiting it).
     */
    PendingRows launchSampleRows(CudaActivation a, RowSampling[] sampling, PendingRows previous) {
        if (sampling.length != a.rows()) {
            throw new IllegalArgumentException(sampling.length + " sampling entries for " + a.rows() + " rows");
        }
        DeferredTokens.Pass onDevice = null;
        if (hasPending(sampling)) {
            if (deferred.isLatest(previous)) {
                onDevice = (DeferredTokens.Pass) previous;
            } else {
                sampling = PendingRows.resolveEdits(sampling, previous);
            }
        }
        if (a.rows() == 0 || Arrays.asList(sampling).contains(null)) {
            return PendingRows.completed(sampleRows(a, sampling, onDevice));
        }
        graphs.endPass();
        PendingRows pass = sampler.launch(a, sampling, deferred, onDevice);
        memory.endStepInFlight();
        return pass;
    }

    private static boolean hasPending(RowSampling[] sampling) {
        return Arrays.stream(sampling).anyMatch(r -> r != null && r.edits().pendingRow() >= 0);
    }

    /** One token per row of logits [R, V]: greedy at temperature 0, else top-k / top-p and the given draws. */
    int[] sample(CudaActivation logits, double[] temperature, int[] topK, double[] topP, double[] uniform) {
        return sampler.sample(logits, temperature, topK, topP, uniform);
    }

    /** The greedy token of each row (highest logit, lowest id on ties). */
    int[] argmax(CudaActivation logits) {
        int rows = logits.rows();
        return sample(logits, new double[rows], new int[rows], filled(rows, 1.0), new double[rows]);
    }

    private static double[] filled(int n, double v) {
        double[] a = new double[n];
        Arrays.fill(a, v);
        return a;
    }
}

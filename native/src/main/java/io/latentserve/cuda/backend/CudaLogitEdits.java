package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.LogitEditsParams;
import io.latentserve.model.backend.LogitEdits;
import io.latentserve.model.backend.RowSampling;

/**
 * The {@link LogitEdits} of a launch's rows packed for ls_logit_edits (CSR: every row's entries one after another),
 * so that rows with a bias or penalties are edited on the device, bit for bit as LogitEdits.apply, and sampled by
 * ls_sample like the others. Three uploads per launch: the int32 columns in one array, the biases, the penalties.
 * A row's {@link LogitEdits#pendingRow} (async scheduling) names a token of the previous pass's device buffer,
 * which the kernel folds in.
 */
final class CudaLogitEdits {
    private final int rows;
    private final int entries;
    /** entryStart [rows + 1], then tokens, generated and seen (0/1) [entries each], then pendingRow [rows]. */
    private final int[] ints;
    /** [entries] */
    private final float[] bias;
    /** repetition, presence, frequency [rows each] */
    private final double[] penalties;

    private CudaLogitEdits(int rows, int entries) {
        this.rows = rows;
        this.entries = entries;
        this.ints = new int[rows + 1 + 3 * entries + rows];
        this.bias = new float[entries];
        this.penalties = new double[3 * rows];
    }

    /**
     * The edits of rows against logits of vocab columns, or null when no row has any (then nothing is launched).
     *
     * @throws IllegalArgumentException for an entry whose token is not below vocab (before anything is allocated)
     */
    static CudaLogitEdits of(RowSampling[] rows, int vocab) {
        int entries = 0;
        boolean pending = false;
        for (int r = 0; r < rows.length; r++) {
            LogitEdits e = rows[r].edits();
            for (int token : e.tokens()) {
                if (token >= vocab) {
                    throw new IllegalArgumentException("row " + r + ": logit edit for token " + token
                            + " outside the vocabulary 0.." + (vocab - 1));
                }
            }
            entries += e.size();
            pending |= e.pendingRow() >= 0;
        }
        if (entries == 0 && !pending) {
            return null;
        }
        CudaLogitEdits packed = new CudaLogitEdits(rows.length, entries);
        for (int r = 0; r < rows.length; r++) {
            packed.add(r, rows[r].edits());
        }
        return packed;
    }

    /** Appends row r's entries after those of the rows before it. */
    private void add(int r, LogitEdits e) {
        int start = ints[r];
        int n = e.size();
        System.arraycopy(e.tokens(), 0, ints, rows + 1 + start, n);
        System.arraycopy(e.generated(), 0, ints, rows + 1 + entries + start, n);
        for (int i = 0; i < n; i++) {
            ints[rows + 1 + 2 * entries + start + i] = e.seen()[i] ? 1 : 0;
        }
        System.arraycopy(e.bias(), 0, bias, start, n);
        ints[r + 1] = start + n;
        penalties[r] = e.repetitionPenalty();
        penalties[rows + r] = e.presencePenalty();
        penalties[2 * rows + r] = e.frequencyPenalty();
        ints[rows + 1 + 3 * entries + r] = e.pendingRow();
    }

    /** Whether a row counts a token of the previous pass (launch needs that pass's device tokens). */
    boolean hasPending() {
        for (int r = 0; r < rows; r++) {
            if (ints[rows + 1 + 3 * entries + r] >= 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Queues ls_logit_edits on logits [rows, V] (in place), its inputs uploaded through the scratch scope s.
     *
     * @param previousTokens the previous pass's sampled tokens on the device, where {@link #hasPending}; else 0
     */
    void launch(Kernels kernels, StepMemory.Scratch s, CudaActivation logits, long previousTokens) {
        if (logits.rows() != rows) {
            throw new IllegalArgumentException("logit edits of " + rows + " rows for " + logits.rows() + " rows of logits");
        }
        if (hasPending() && previousTokens == 0) {
            throw new IllegalArgumentException("logit edits count tokens of a previous pass whose tokens are not on"
                    + " the device: resolve them on the host first (PendingRows.resolveEdits)");
        }
        long intBase = s.ints(ints);
        long tokens = intBase + 4L * (rows + 1);
        long penaltyBase = s.doubles(penalties);
        kernels.launch(new LogitEditsParams(logits.address(), intBase, tokens, s.floats(bias), tokens + 4L * entries,
                        tokens + 8L * entries, penaltyBase, penaltyBase + 8L * rows, penaltyBase + 16L * rows,
                        tokens + 12L * entries, previousTokens, rows, logits.stride()),
                Grid.of(rows, KernelLimits.THREADS));
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.model.backend.AttentionBatch;

import java.util.List;

/** The token rows of some of a batch's sequences, and per-token values picked for them: what both MLA forms upload. */
final class AttentionRows {
    private AttentionRows() {
    }

    /** The rows of these sequences' tokens, sequence after sequence. */
    static int[] tokensOf(AttentionBatch batch, List<Integer> seqs) {
        int n = 0;
        for (int s : seqs) {
            n += batch.seqStarts()[s + 1] - batch.seqStarts()[s];
        }
        int[] rows = new int[n];
        int w = 0;
        for (int s : seqs) {
            for (int t = batch.seqStarts()[s]; t < batch.seqStarts()[s + 1]; t++) {
                rows[w++] = t;
            }
        }
        return rows;
    }

    /** values[index[i]] for each i. */
    static int[] gather(int[] values, int[] index) {
        int[] out = new int[index.length];
        for (int i = 0; i < index.length; i++) {
            out[i] = values[index[i]];
        }
        return out;
    }
}

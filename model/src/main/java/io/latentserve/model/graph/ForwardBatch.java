package io.latentserve.model.graph;

import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.PendingRows;

/**
 * Everything one forward pass needs, built explicitly by the model runner (no global batch context).
 *
 * @param tokenIds   [T] the tokens to run, sequence after sequence; a negative entry is a marker
 *                   ({@link PendingRows#marker}) naming the token the previous launched pass sampled for one of
 *                   its logit rows, which the host has not seen yet (only {@link CausalLM#launchSampled} takes them)
 * @param attention  positions, sequence boundaries, block tables and slot mapping of those tokens
 * @param logitRows  the token rows whose logits are wanted (usually the last token of each sequence)
 */
public record ForwardBatch(int[] tokenIds, AttentionBatch attention, int[] logitRows) {

    public ForwardBatch {
        if (tokenIds.length != attention.numTokens() || attention.slotMapping().length != tokenIds.length) {
            throw new IllegalArgumentException("batch has " + tokenIds.length + " tokens but "
                    + attention.numTokens() + " positions and " + attention.slotMapping().length + " slots");
        }
        for (int row : logitRows) {
            if (row < 0 || row >= tokenIds.length) {
                throw new IllegalArgumentException("logit row " + row + " outside the batch of " + tokenIds.length);
            }
        }
    }

    /** Whether some input is a marker for a token of the previous pass (see {@link PendingRows#marker}). */
    public boolean hasMarkers() {
        return PendingRows.hasMarkers(tokenIds);
    }

    public int numTokens() {
        return tokenIds.length;
    }

    /**
     * A batch of whole sequences, each continuing at startPositions[i], with its block table; the logits of
     * each sequence's last token are requested.
     */
    public static ForwardBatch of(int[][] tokens, int[] startPositions, int[][] blockTables, int blockSize) {
        int total = 0;
        for (int[] t : tokens) {
            total += t.length;
        }
        int[] ids = new int[total];
        int[] positions = new int[total];
        int[] slots = new int[total];
        int[] starts = new int[tokens.length + 1];
        int[] logitRows = new int[tokens.length];
        int n = 0;
        for (int s = 0; s < tokens.length; s++) {
            starts[s] = n;
            for (int i = 0; i < tokens[s].length; i++, n++) {
                int pos = startPositions[s] + i;
                ids[n] = tokens[s][i];
                positions[n] = pos;
                slots[n] = blockTables[s][pos / blockSize] * blockSize + pos % blockSize;
            }
            starts[s + 1] = n;
            logitRows[s] = n - 1;
        }
        return new ForwardBatch(ids, new AttentionBatch(starts, positions, blockTables, slots, blockSize), logitRows);
    }
}

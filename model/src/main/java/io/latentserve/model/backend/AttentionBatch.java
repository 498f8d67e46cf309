package io.latentserve.model.backend;

/**
 * Where each token of a batch sits, as attention needs it. Tokens of sequence i are
 * [seqStarts[i], seqStarts[i+1]); token t has position positions[t] and attends to positions
 * 0..positions[t] of its sequence through that sequence's block table. The KV of token t is
 * written to slotMapping[t] before attention runs.
 */
public record AttentionBatch(int[] seqStarts, int[] positions, int[][] blockTables, int[] slotMapping, int blockSize) {

    public int numSeqs() {
        return seqStarts.length - 1;
    }

    public int numTokens() {
        return positions.length;
    }

    /** Number of positions sequence i can see after this batch: last position + 1. */
    public int contextLength(int seq) {
        return positions[seqStarts[seq + 1] - 1] + 1;
    }

    /** Cache row of position pos of sequence seq. */
    public int slot(int seq, int pos) {
        return blockTables[seq][pos / blockSize] * blockSize + pos % blockSize;
    }
}

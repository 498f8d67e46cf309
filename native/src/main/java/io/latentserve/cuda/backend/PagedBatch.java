package io.latentserve.cuda.backend;

import io.latentserve.model.backend.AttentionBatch;

import java.util.Arrays;

/**
 * An AttentionBatch checked against a cache and flattened for the kernels: the block tables padded to one
 * width ([numSeqs, maxBlocks] int32, row-major, maxBlocks a power of two: {@link #tableWidth}; entries past a
 * sequence's last block are 0 and never read) and the sequence of each token. Every block a token can
 * see is checked to exist in the cache, so a kernel never reads outside it.
 */
record PagedBatch(int[] tables, int maxBlocks, int[] seqOf) {

    static PagedBatch of(AttentionBatch batch, int cacheBlocks, int cacheBlockSize) {
        if (batch.blockSize() != cacheBlockSize) {
            throw new IllegalArgumentException("batch block size " + batch.blockSize() + " differs from the cache's "
                    + cacheBlockSize);
        }
        int[] starts = batch.seqStarts();
        int tokens = batch.numTokens();
        if (starts.length < 1 || starts[0] != 0 || starts[starts.length - 1] != tokens
                || batch.blockTables().length != batch.numSeqs()) {
            throw new IllegalArgumentException("sequence starts " + Arrays.toString(starts) + " do not cover the "
                    + tokens + " tokens, or there are not one block table per sequence");
        }
        int[] seqOf = new int[tokens];
        int[] needed = new int[batch.numSeqs()];
        for (int s = 0; s < batch.numSeqs(); s++) {
            if (starts[s + 1] < starts[s]) {
                throw new IllegalArgumentException("sequence starts decrease: " + Arrays.toString(starts));
            }
            for (int t = starts[s]; t < starts[s + 1]; t++) {
                int pos = batch.positions()[t];
                if (pos < 0) {
                    throw new IllegalArgumentException("token " + t + " has position " + pos);
                }
                seqOf[t] = s;
                needed[s] = Math.max(needed[s], pos / cacheBlockSize + 1);
            }
            int[] table = batch.blockTables()[s];
            if (needed[s] > table.length) {
                throw new IllegalArgumentException("sequence " + s + " reaches block " + (needed[s] - 1)
                        + " but its block table has " + table.length + " entries");
            }
            for (int b = 0; b < needed[s]; b++) {
                if (table[b] < 0 || table[b] >= cacheBlocks) {
                    throw new IllegalArgumentException("sequence " + s + " block table entry " + b + " = " + table[b]
                            + " outside the cache's " + cacheBlocks + " blocks");
                }
            }
        }
        int maxBlocks = tableWidth(Arrays.stream(needed).max().orElse(1));
        int[] tables = new int[batch.numSeqs() * maxBlocks];
        for (int s = 0; s < batch.numSeqs(); s++) {
            System.arraycopy(batch.blockTables()[s], 0, tables, s * maxBlocks, needed[s]);
        }
        return new PagedBatch(tables, maxBlocks, seqOf);
    }

    /**
     * The padded block-table width for a batch whose longest sequence needs `needed` blocks: rounded up to a
     * power of two, so that as decode contexts grow the tables' shape (a kernel parameter and a scratch size,
     * and so a CUDA graph's signature) changes only when the longest context doubles, not at every block.
     */
    static int tableWidth(int needed) {
        return needed <= 1 ? 1 : Integer.highestOneBit(needed - 1) << 1;
    }

    /** Checks a slot mapping (one cache row per token) against the cache. */
    static void checkSlots(int[] slots, int cacheSlots) {
        for (int t = 0; t < slots.length; t++) {
            if (slots[t] < 0 || slots[t] >= cacheSlots) {
                throw new IllegalArgumentException("KV slot " + slots[t] + " of token " + t + " outside the cache ("
                        + cacheSlots + " rows)");
            }
        }
    }
}

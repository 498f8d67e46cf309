package io.latentserve.server.engine.kv;

import java.util.Arrays;

/** One sequence's block table and how far its full blocks have been put into the prefix index. */
final class SequenceBlocks {
    private int[] table = new int[8];
    private int numBlocks;
    /** Token positions that have a slot (numBlocks * blockSize rounds this up). */
    int numTokens;
    /** Leading blocks already hashed (shared by a prefix hit or committed by this sequence). */
    int committedBlocks;
    /** Key and content identity of the last committed block: the parent of the next one. */
    BlockHash lastHash = BlockHash.ROOT;
    long lastContentId = PrefixBlock.ROOT_CONTENT_ID;

    void append(int[] blockIds) {
        if (numBlocks + blockIds.length > table.length) {
            table = Arrays.copyOf(table, Math.max(table.length * 2, numBlocks + blockIds.length));
        }
        System.arraycopy(blockIds, 0, table, numBlocks, blockIds.length);
        numBlocks += blockIds.length;
    }

    int numBlocks() {
        return numBlocks;
    }

    int block(int index) {
        return table[index];
    }

    int[] table() {
        return Arrays.copyOf(table, numBlocks);
    }
}

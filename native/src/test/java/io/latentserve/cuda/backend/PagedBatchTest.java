package io.latentserve.cuda.backend;

import io.latentserve.model.backend.AttentionBatch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Flattening and checking of paged batches, on the host (no GPU). */
class PagedBatchTest {

    @Test
    void tablesArePaddedToAPowerOfTwoWidth() {
        assertEquals(1, PagedBatch.tableWidth(1));
        assertEquals(2, PagedBatch.tableWidth(2));
        assertEquals(4, PagedBatch.tableWidth(3));
        assertEquals(64, PagedBatch.tableWidth(33));
        assertEquals(64, PagedBatch.tableWidth(64));
        // two decode tokens: positions 20 (2 blocks of 16) and 40 (3 blocks): width 4, unused entries 0
        AttentionBatch batch = new AttentionBatch(new int[]{0, 1, 2}, new int[]{20, 40},
                new int[][]{{7, 3}, {1, 2, 5, 9}}, new int[]{3 * 16 + 4, 5 * 16 + 8}, 16);
        PagedBatch paged = PagedBatch.of(batch, 10, 16);
        assertEquals(4, paged.maxBlocks());
        assertArrayEquals(new int[]{7, 3, 0, 0, 1, 2, 5, 0}, paged.tables());
        assertArrayEquals(new int[]{0, 1}, paged.seqOf());
    }

    @Test
    void aBlockOutsideTheCacheIsRefused() {
        AttentionBatch batch = new AttentionBatch(new int[]{0, 1}, new int[]{20}, new int[][]{{7, 12}},
                new int[]{12 * 16 + 4}, 16);
        assertThrows(IllegalArgumentException.class, () -> PagedBatch.of(batch, 10, 16));
    }
}

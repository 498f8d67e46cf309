package io.latentserve.server.engine.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BlockPoolTest {

    private static PrefixBlock cache(BlockPool pool, int blockId, long key) {
        return pool.cache(blockId, new BlockHash(key, key), PrefixBlock.ROOT_CONTENT_ID, new int[] {(int) key}, 0, 1);
    }

    private static void assertCounts(BlockPool pool, int free, int cached, int used) {
        assertEquals(free, pool.freeBlocks(), "free");
        assertEquals(cached, pool.cachedBlocks(), "cached");
        assertEquals(used, pool.usedBlocks(), "used");
        assertEquals(pool.totalBlocks(), free + cached + used, "free + cached + used == total");
    }

    @Test
    void freshPoolHandsOutLowestIdsAndFreesBack() {
        BlockPool pool = new BlockPool(4);
        assertCounts(pool, 4, 0, 0);
        assertArrayEquals(new int[] {0, 1, 2}, pool.allocate(3));
        assertCounts(pool, 1, 0, 3);
        pool.free(1);
        pool.free(0);
        pool.free(2);
        assertCounts(pool, 4, 0, 0);
    }

    @Test
    void allocateBeyondCapacityThrowsWithoutChangingState() {
        BlockPool pool = new BlockPool(3);
        pool.allocate(2);
        assertFalse(pool.canAllocate(2));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.allocate(2));
        assertTrue(e.getMessage().contains("cannot allocate 2 KV blocks"), e.getMessage());
        assertCounts(pool, 1, 0, 2);
        assertTrue(pool.canAllocate(1));
        assertFalse(pool.canAllocate(-1));
    }

    @Test
    void refCountsCountEveryHolder() {
        BlockPool pool = new BlockPool(2);
        int id = pool.allocate(1)[0];
        cache(pool, id, 7);
        pool.touch(id);
        assertEquals(2, pool.refCount(id));
        pool.free(id);
        assertCounts(pool, 1, 0, 1);
        pool.free(id);
        assertCounts(pool, 1, 1, 0);
        assertThrows(IllegalStateException.class, () -> pool.free(id));
        pool.touch(id); // a prefix hit revives a cached block
        assertCounts(pool, 1, 0, 1);
        pool.free(id);
        assertCounts(pool, 1, 1, 0);
    }

    @Test
    void touchingAFreeBlockIsAnError() {
        BlockPool pool = new BlockPool(2);
        assertThrows(IllegalStateException.class, () -> pool.touch(0));
        assertThrows(IllegalArgumentException.class, () -> pool.touch(2));
    }

    @Test
    void unhashedBlocksAreReusedBeforeCachedOnes() {
        BlockPool pool = new BlockPool(3);
        int[] ids = pool.allocate(3);
        cache(pool, ids[0], 1);
        for (int id : ids) {
            pool.free(id);
        }
        assertCounts(pool, 2, 1, 0);
        int[] again = pool.allocate(2);
        assertFalse(again[0] == ids[0] || again[1] == ids[0], "the cached block must survive");
        assertEquals(ids[0], pool.lookup(new BlockHash(1, 1)).blockId());
    }

    @Test
    void evictsLeastRecentlyFreedFirst() {
        BlockPool pool = new BlockPool(4);
        int[] ids = pool.allocate(4);
        for (int i = 0; i < 4; i++) {
            cache(pool, ids[i], 10 + i);
        }
        // Freed in the order 2, 0, 3, 1; then block 2 is hit again and re-freed: the order becomes 0, 3, 1, 2.
        pool.free(ids[2]);
        pool.free(ids[0]);
        pool.free(ids[3]);
        pool.free(ids[1]);
        pool.touch(ids[2]);
        pool.free(ids[2]);
        assertCounts(pool, 0, 4, 0);
        assertEquals(ids[0], pool.allocate(1)[0]);
        assertNull(pool.lookup(new BlockHash(10, 10)), "an evicted block leaves the index");
        assertNull(pool.contentOf(ids[0]));
        assertEquals(ids[3], pool.allocate(1)[0]);
        assertEquals(ids[1], pool.allocate(1)[0]);
        assertEquals(ids[2], pool.allocate(1)[0]);
        assertCounts(pool, 0, 0, 4);
    }

    @Test
    void cachingUnderATakenKeyMovesTheKeyToTheNewBlock() {
        BlockPool pool = new BlockPool(3);
        int[] ids = pool.allocate(2);
        PrefixBlock first = cache(pool, ids[0], 5);
        pool.free(ids[0]);
        assertCounts(pool, 1, 1, 1);
        PrefixBlock second = cache(pool, ids[1], 5);
        assertSame(second, pool.lookup(new BlockHash(5, 5)));
        assertTrue(second.contentId() > first.contentId(), "content ids are never reused");
        assertNull(pool.contentOf(ids[0]));
        assertCounts(pool, 2, 0, 1); // the displaced unreferenced block became plainly free
    }

    @Test
    void onlyUsedUnhashedBlocksCanBeCached() {
        BlockPool pool = new BlockPool(2);
        assertThrows(IllegalStateException.class, () -> cache(pool, 0, 1));
        int id = pool.allocate(1)[0];
        cache(pool, id, 1);
        assertThrows(IllegalStateException.class, () -> cache(pool, id, 2));
    }
}

package io.latentserve.server.engine.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class KvCacheManagerTest {
    private static final int BS = 4;

    private static int[] tokens(int from, int count) {
        return IntStream.range(from, from + count).toArray();
    }

    private static int[] concat(int[] a, int[] b) {
        return IntStream.concat(IntStream.of(a), IntStream.of(b)).toArray();
    }

    /** Allocates the whole prompt, then reports it computed, as the engine does after a prefill. */
    private static int prefill(KvCacheManager kv, long seqId, int[] prompt) {
        int cached = kv.allocateForPrompt(seqId, prompt);
        kv.commitComputedTokens(seqId, prompt, prompt.length);
        return cached;
    }

    private static void assertBaseline(KvCacheManager kv) {
        BlockPool pool = kv.pool();
        assertEquals(0, pool.usedBlocks(), "used");
        assertEquals(pool.totalBlocks(), pool.freeBlocks() + pool.cachedBlocks(), "free + cached == total");
        for (int id = 0; id < pool.totalBlocks(); id++) {
            assertEquals(0, pool.refCount(id), "refcount of block " + id);
        }
        assertEquals(0.0, kv.usage());
    }

    @Test
    void slotsFollowTheBlockTable() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(8), BS);
        assertEquals(0, kv.allocateForPrompt(1, tokens(0, 6)));
        int[] table = kv.blockTable(1);
        assertEquals(2, table.length);
        assertEquals(6, kv.numSlots(1));
        assertEquals(table[1] * BS + 1, kv.slot(1, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> kv.slot(1, 6));
        kv.allocateSlots(1, 2); // fills block 1 exactly
        assertEquals(2, kv.blockTable(1).length);
        kv.allocateSlots(1, 1);
        assertEquals(3, kv.blockTable(1).length);
        assertTrue(kv.freeSequence(1));
        assertFalse(kv.freeSequence(1));
        assertBaseline(kv);
    }

    @Test
    void sharedPrefixBlocksAreReusedAndRefcounted() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(16), BS);
        int[] system = tokens(100, 8);                       // two full blocks
        int[] a = concat(system, tokens(0, 3));
        int[] b = concat(system, tokens(50, 5));
        assertEquals(0, prefill(kv, 1, a));
        assertEquals(8, kv.findCachedPrefix(b));
        assertEquals(8, prefill(kv, 2, b));
        int[] ta = kv.blockTable(1);
        int[] tb = kv.blockTable(2);
        assertArrayEquals(java.util.Arrays.copyOf(ta, 2), java.util.Arrays.copyOf(tb, 2));
        assertEquals(2, kv.pool().refCount(ta[0]));
        assertEquals(2, kv.pool().refCount(ta[1]));
        assertEquals(1, kv.pool().refCount(tb[2]));
        assertEquals(a.length + b.length, kv.prefixQueriedTokens());
        assertEquals(8, kv.prefixHitTokens());
        kv.freeSequence(1);
        assertEquals(1, kv.pool().refCount(ta[0]));
        kv.freeSequence(2);
        assertBaseline(kv);
        assertEquals(12, kv.findCachedPrefix(b), "unreferenced hashed blocks stay cached, b's own third block too");
    }

    @Test
    void neverSharesTheWholePrompt() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(16), BS);
        int[] prompt = tokens(0, 8);
        prefill(kv, 1, prompt);
        kv.freeSequence(1);
        assertEquals(4, kv.findCachedPrefix(prompt), "the last token's block is recomputed");
        assertEquals(8, kv.findCachedPrefix(tokens(0, 9)));
        assertEquals(0, kv.findCachedPrefix(tokens(0, 4)));
        assertEquals(0, kv.findCachedPrefix(new int[0]));
        assertEquals(4, kv.allocateForPrompt(2, prompt));
        assertEquals(2, kv.blockTable(2).length);
    }

    @Test
    void differentFirstBlockSharesNothingEvenWithEqualLaterBlocks() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(16), BS);
        prefill(kv, 1, concat(tokens(0, 4), tokens(10, 5)));
        assertEquals(0, kv.findCachedPrefix(concat(tokens(1, 4), tokens(10, 5))));
    }

    @Test
    void collidingKeysWithDifferentTokensAreNotShared() {
        // Every block at the same depth gets the same key, whatever its tokens.
        PrefixHasher colliding = (parent, t, from, to) -> new BlockHash(parent.hi() + 1, 0);
        KvCacheManager kv = new KvCacheManager(new BlockPool(16), BS, colliding);
        int[] a = tokens(0, 9);
        int[] b = tokens(20, 9);
        prefill(kv, 1, a);
        assertEquals(8, kv.findCachedPrefix(a));
        assertEquals(0, kv.findCachedPrefix(b));
        assertEquals(0, prefill(kv, 2, b));
        assertEquals(8, kv.findCachedPrefix(b), "the newest computation of a key wins");
        assertEquals(0, kv.findCachedPrefix(a));
        kv.freeSequence(1);
        kv.freeSequence(2);
        assertBaseline(kv);
    }

    @Test
    void collidingKeysAcrossPrefixesAreNotShared() {
        // Keys ignore the parent: block 1 of (x, y) and block 1 of (z, y) collide with equal tokens y.
        PrefixHasher noChain = (parent, t, from, to) -> new BlockHash(t[from], t[to - 1]);
        KvCacheManager kv = new KvCacheManager(new BlockPool(16), BS, noChain);
        int[] y = tokens(50, 4);
        prefill(kv, 1, concat(concat(tokens(0, 4), y), new int[] {99}));
        prefill(kv, 2, concat(concat(tokens(10, 4), tokens(60, 4)), new int[] {99}));
        // (z, y): block 0 = z is cached by seq 2; block 1 = y is cached, but after x, not after z.
        int[] zy = concat(concat(tokens(10, 4), y), new int[] {99});
        assertEquals(4, kv.findCachedPrefix(zy));
    }

    @Test
    void identicalPromptsComputedTogetherStillShareLater() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(16), BS);
        int[] prompt = tokens(0, 9);
        kv.allocateForPrompt(1, prompt);
        kv.allocateForPrompt(2, prompt); // nothing committed yet: no hit
        kv.commitComputedTokens(1, prompt, 9);
        kv.commitComputedTokens(2, prompt, 9);
        assertEquals(8, kv.findCachedPrefix(prompt));
        kv.freeSequence(1);
        kv.freeSequence(2);
        assertBaseline(kv);
        assertEquals(2, kv.pool().cachedBlocks(), "the duplicate blocks went back to the free list");
    }

    @Test
    void generatedTokensFillBlocksThatLaterPromptsShare() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(16), BS);
        int[] seq = tokens(0, 3);
        prefill(kv, 1, seq);
        for (int t = 3; t < 9; t++) { // decode: one slot per token, committed once computed
            kv.allocateSlots(1, 1);
            seq = tokens(0, t + 1);
            kv.commitComputedTokens(1, seq, t);
        }
        assertEquals(8, kv.findCachedPrefix(tokens(0, 12)));
    }

    @Test
    void chunkedPrefillAllocatesAsItGoes() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(16), BS);
        int[] prompt = tokens(0, 10);
        assertEquals(0, kv.allocateForPrompt(1, prompt, 4));
        assertEquals(1, kv.blockTable(1).length);
        kv.commitComputedTokens(1, prompt, 4);
        assertTrue(kv.canAllocate(1, 6));
        kv.allocateSlots(1, 6);
        assertEquals(3, kv.blockTable(1).length);
        assertThrows(IllegalArgumentException.class, () -> kv.commitComputedTokens(1, prompt, 11));
    }

    @Test
    void failedAllocationsChangeNothing() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(3), BS);
        int[] big = tokens(0, 13);
        assertFalse(kv.canAllocateForPrompt(big));
        assertThrows(IllegalStateException.class, () -> kv.allocateForPrompt(1, big));
        assertFalse(kv.contains(1));
        assertEquals(3, kv.pool().freeBlocks());
        kv.allocateForPrompt(2, tokens(0, 12));
        assertFalse(kv.canAllocate(2, 1));
        assertThrows(IllegalStateException.class, () -> kv.allocateSlots(2, 1));
        assertEquals(12, kv.numSlots(2));
        assertEquals(3, kv.blockTable(2).length);
        assertThrows(IllegalStateException.class, () -> kv.allocateForPrompt(2, tokens(0, 1)));
        assertThrows(IllegalStateException.class, () -> kv.blockTable(3));
    }

    @Test
    void cachedHitBlocksCountAgainstTheAvailablePool() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(3), BS);
        prefill(kv, 1, tokens(0, 9));   // 3 blocks, first 2 hashed
        kv.freeSequence(1);
        int[] again = tokens(0, 12);
        assertTrue(kv.canAllocateForPrompt(again)); // 2 cached hits + 1 new block = 3
        assertEquals(8, kv.allocateForPrompt(2, again));
        assertEquals(3, kv.pool().usedBlocks());
        assertFalse(kv.canAllocateForPrompt(tokens(0, 5)));
    }

    @Test
    void prefixTailIsEvictedBeforeItsHead() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(4), BS);
        prefill(kv, 1, tokens(0, 13)); // 4 blocks, 3 hashed
        kv.freeSequence(1);
        kv.allocateForPrompt(2, tokens(100, 8)); // takes the unhashed block, then evicts the last hashed one
        assertEquals(8, kv.findCachedPrefix(tokens(0, 13)), "block 2 went, blocks 0 and 1 stay");
    }

    @Test
    void metricsDescribeCapacityAndUsage() {
        KvCacheManager kv = new KvCacheManager(new BlockPool(10), 16);
        assertEquals(160, kv.capacityTokens());
        kv.allocateForPrompt(1, tokens(0, 33));
        assertEquals(0.3, kv.usage(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new KvCacheManager(new BlockPool(1), 12));
    }
}

package io.latentserve.server.engine.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random workloads against the cache manager, with a simulated KV store: every slot holds a value
 * that depends on the whole prefix of the token written there, so a wrongly shared block shows up
 * as a wrong value. Accounting invariants are checked after every step.
 */
class KvCacheManagerPropertyTest {
    private static final int BS = 4;
    private static final int BLOCKS = 24;

    /** One running sequence as the engine sees it. */
    private static final class Seq {
        int[] tokens;
        int computed;
    }

    private final Map<Long, Seq> running = new HashMap<>();
    private final long[] kvStore = new long[BLOCKS * BS];
    private KvCacheManager kv;
    private SplittableRandom random;

    @ParameterizedTest
    @ValueSource(strings = {"sha256", "weak", "constant"})
    void invariantsHoldUnderRandomWorkloads(String hasherName) {
        PrefixHasher hasher = switch (hasherName) {
            case "sha256" -> PrefixHasher.sha256();
            case "weak" -> (parent, t, from, to) -> new BlockHash(parent.hi() * 3 + (t[from] + t[to - 1]) % 3, 0);
            default -> (parent, t, from, to) -> new BlockHash(1, 1);
        };
        for (long seed = 1; seed <= 20; seed++) {
            kv = new KvCacheManager(new BlockPool(BLOCKS), BS, hasher);
            random = new SplittableRandom(seed);
            running.clear();
            for (int step = 0; step < 400; step++) {
                randomStep(step);
                checkInvariants();
            }
            for (long id : new ArrayList<>(running.keySet())) {
                kv.freeSequence(id);
                running.remove(id);
                checkInvariants();
            }
            assertEquals(0, kv.pool().usedBlocks());
            assertEquals(BLOCKS, kv.pool().freeBlocks() + kv.pool().cachedBlocks());
        }
        assertTrue(kv.prefixHitTokens() > 0 || !hasherName.equals("sha256"), "the workload must exercise sharing");
    }

    private void randomStep(long seqId) {
        int action = random.nextInt(10);
        if (action < 4 || running.isEmpty()) {
            admit(seqId);
        } else if (action < 8) {
            advance(pick());
        } else {
            long id = pick();
            kv.freeSequence(id);
            running.remove(id);
        }
    }

    private long pick() {
        List<Long> ids = new ArrayList<>(running.keySet());
        ids.sort(null);
        return ids.get(random.nextInt(ids.size()));
    }

    // Prompts come from a few shared stems plus a random tail, over a tiny alphabet: many hits and collisions.
    private void admit(long seqId) {
        int stem = random.nextInt(3);
        int[] prompt = new int[1 + random.nextInt(14)];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = i < 6 + stem ? (stem + i) % 3 : random.nextInt(3);
        }
        int cachedBefore = kv.findCachedPrefix(prompt);
        int chunk = 1 + random.nextInt(prompt.length - cachedBefore);
        boolean fits = kv.canAllocateForPrompt(prompt, chunk);
        int usedBefore = kv.pool().usedBlocks();
        if (!fits) {
            try {
                kv.allocateForPrompt(seqId, prompt, chunk);
                throw new AssertionError("allocateForPrompt must throw when canAllocateForPrompt is false");
            } catch (IllegalStateException expected) {
                assertEquals(usedBefore, kv.pool().usedBlocks(), "a failed allocation changes nothing");
                return;
            }
        }
        int cached = kv.allocateForPrompt(seqId, prompt, chunk);
        assertEquals(cachedBefore, cached);
        assertTrue(cached % BS == 0 && cached < prompt.length);
        for (int p = 0; p < cached; p++) {
            assertEquals(kvValue(prompt, p), kvStore[kv.slot(seqId, p)], "shared slot holds this prompt's KV");
        }
        Seq seq = new Seq();
        seq.tokens = prompt;
        seq.computed = cached;
        running.put(seqId, seq);
        compute(seqId, seq, cached + chunk);
    }

    // A prefill chunk of the rest of the prompt, or one decode token.
    private void advance(long seqId) {
        Seq seq = running.get(seqId);
        int n = seq.computed < seq.tokens.length ? 1 + random.nextInt(seq.tokens.length - seq.computed) : 1;
        if (!kv.canAllocate(seqId, n)) {
            int before = kv.numSlots(seqId);
            try {
                kv.allocateSlots(seqId, n);
                throw new AssertionError("allocateSlots must throw when canAllocate is false");
            } catch (IllegalStateException expected) {
                assertEquals(before, kv.numSlots(seqId));
                return;
            }
        }
        kv.allocateSlots(seqId, n);
        int target = seq.computed + n;
        if (target > seq.tokens.length) {
            seq.tokens = Arrays.copyOf(seq.tokens, target);
            seq.tokens[target - 1] = random.nextInt(3);
        }
        compute(seqId, seq, target);
    }

    // The "model" writes each new token's KV into its slot; shared (hashed) blocks must never be written.
    private void compute(long seqId, Seq seq, int upTo) {
        int[] table = kv.blockTable(seqId);
        for (int p = seq.computed; p < upTo; p++) {
            int block = table[p / BS];
            assertNull(kv.pool().contentOf(block), "writing into a hashed block would corrupt its sharers");
            assertEquals(1, kv.pool().refCount(block), "writing into a shared block");
            kvStore[kv.slot(seqId, p)] = kvValue(seq.tokens, p);
        }
        seq.computed = upTo;
        kv.commitComputedTokens(seqId, seq.tokens, upTo);
    }

    private static long kvValue(int[] tokens, int position) {
        long h = 17;
        for (int i = 0; i <= position; i++) {
            h = h * 1_000_003L + tokens[i] + 1;
        }
        return h;
    }

    private void checkInvariants() {
        BlockPool pool = kv.pool();
        assertEquals(pool.totalBlocks(), pool.freeBlocks() + pool.cachedBlocks() + pool.usedBlocks());
        int[] holders = new int[pool.totalBlocks()];
        for (long id : running.keySet()) {
            int[] table = kv.blockTable(id);
            assertEquals(table.length, Arrays.stream(table).distinct().count(), "a table names a block once");
            for (int block : table) {
                holders[block]++;
            }
        }
        int used = 0;
        for (int b = 0; b < holders.length; b++) {
            assertEquals(holders[b], pool.refCount(b), "refcount of block " + b + " == tables holding it");
            used += holders[b] > 0 ? 1 : 0;
        }
        assertEquals(used, pool.usedBlocks());
        assertEquals(running.size(), kv.numSequences());
    }
}

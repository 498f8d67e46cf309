package io.latentserve.server.engine.kv;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps each sequence to its block table and shares full prompt blocks between sequences by content.
 *
 * <p>Slot of token position p: {@code table[p / blockSize] * blockSize + p % blockSize}. A block is
 * shared only when full, hashed (chained key: parent key + token ids) and verified: the stored token
 * ids and parent identity must match, so a key collision can never hand out wrong KV data.
 *
 * <p>Not thread-safe: owned by the engine loop, like the {@link BlockPool} it accounts against.
 */
public final class KvCacheManager {
    private final BlockPool pool;
    private final int blockSize;
    private final PrefixHasher hasher;
    private final Map<Long, SequenceBlocks> sequences = new HashMap<>();
    private long queriedTokens;
    private long hitTokens;

    public KvCacheManager(BlockPool pool, int blockSize) {
        this(pool, blockSize, PrefixHasher.sha256());
    }

    /** With an explicit key function; tests pass a colliding one. */
    public KvCacheManager(BlockPool pool, int blockSize, PrefixHasher hasher) {
        if (blockSize < 1 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("blockSize must be a power of two, got " + blockSize);
        }
        this.pool = pool;
        this.blockSize = blockSize;
        this.hasher = hasher;
    }

    public int blockSize() {
        return blockSize;
    }

    public BlockPool pool() {
        return pool;
    }

    /**
     * Leading prompt tokens whose KV is already in cached full blocks. Whole blocks only, and never
     * the whole prompt: the last prompt token is always recomputed to get its logits.
     */
    public int findCachedPrefix(int[] promptTokens) {
        return matchPrefix(promptTokens).size() * blockSize;
    }

    /** Whether {@link #allocateForPrompt(long, int[], int)} would succeed now. */
    public boolean canAllocateForPrompt(int[] promptTokens, int numNewTokens) {
        List<PrefixBlock> hits = matchPrefix(promptTokens);
        return numNewTokens >= 0 && blocksNeededForPrompt(hits, numNewTokens) <= pool.availableBlocks();
    }

    /** Whether the whole prompt fits now (see {@link #allocateForPrompt(long, int[])}). */
    public boolean canAllocateForPrompt(int[] promptTokens) {
        List<PrefixBlock> hits = matchPrefix(promptTokens);
        return blocksNeededForPrompt(hits, uncachedTokens(promptTokens, hits)) <= pool.availableBlocks();
    }

    /** Starts a sequence with slots for its whole prompt; returns the number of cached prompt tokens. */
    public int allocateForPrompt(long seqId, int[] promptTokens) {
        List<PrefixBlock> hits = matchPrefix(promptTokens);
        return allocateForPrompt(seqId, promptTokens, hits, uncachedTokens(promptTokens, hits));
    }

    /**
     * Starts a sequence: shares the cached prefix blocks (refcount + 1) and allocates slots for
     * {@code numNewTokens} more tokens after them (a prefill chunk). Returns the number of cached
     * tokens, where the sequence's computation starts. Throws, changing nothing, when it does not fit.
     */
    public int allocateForPrompt(long seqId, int[] promptTokens, int numNewTokens) {
        return allocateForPrompt(seqId, promptTokens, matchPrefix(promptTokens), numNewTokens);
    }

    private int allocateForPrompt(long seqId, int[] promptTokens, List<PrefixBlock> hits, int numNewTokens) {
        if (sequences.containsKey(seqId)) {
            throw new IllegalStateException("sequence " + seqId + " already has blocks");
        }
        if (numNewTokens < 0) {
            throw new IllegalArgumentException("numNewTokens must be >= 0, got " + numNewTokens);
        }
        int needed = blocksNeededForPrompt(hits, numNewTokens);
        if (needed > pool.availableBlocks()) {
            throw new IllegalStateException("sequence " + seqId + " needs " + needed + " KV blocks, "
                    + pool.availableBlocks() + " available (check canAllocateForPrompt first)");
        }
        SequenceBlocks seq = new SequenceBlocks();
        int[] shared = new int[hits.size()];
        for (int i = 0; i < shared.length; i++) {
            shared[i] = hits.get(i).blockId();
            pool.touch(shared[i]); // before allocate, so that eviction cannot take a hit block
        }
        seq.append(shared);
        int cachedTokens = hits.size() * blockSize;
        seq.numTokens = cachedTokens + numNewTokens;
        seq.append(pool.allocate(blocksFor(seq.numTokens) - hits.size()));
        if (!hits.isEmpty()) {
            PrefixBlock last = hits.getLast();
            seq.committedBlocks = hits.size();
            seq.lastHash = last.hash();
            seq.lastContentId = last.contentId();
        }
        sequences.put(seqId, seq);
        queriedTokens += promptTokens.length;
        hitTokens += cachedTokens;
        return cachedTokens;
    }

    private int uncachedTokens(int[] promptTokens, List<PrefixBlock> hits) {
        return promptTokens.length - hits.size() * blockSize;
    }

    // Hit blocks that are cached (refcount 0) leave the available pool when taken, like new blocks.
    private int blocksNeededForPrompt(List<PrefixBlock> hits, int numNewTokens) {
        int needed = blocksFor(hits.size() * blockSize + numNewTokens) - hits.size();
        for (PrefixBlock hit : hits) {
            if (pool.refCount(hit.blockId()) == 0) {
                needed++;
            }
        }
        return needed;
    }

    /** Whether a running sequence can get slots for {@code numNewTokens} more tokens now. */
    public boolean canAllocate(long seqId, int numNewTokens) {
        SequenceBlocks seq = sequence(seqId);
        return numNewTokens >= 0 && pool.canAllocate(blocksFor(seq.numTokens + numNewTokens) - seq.numBlocks());
    }

    /** Grows a sequence's table to hold {@code numNewTokens} more tokens; throws, changing nothing, when it cannot. */
    public void allocateSlots(long seqId, int numNewTokens) {
        SequenceBlocks seq = sequence(seqId);
        if (!canAllocate(seqId, numNewTokens)) {
            throw new IllegalStateException("sequence " + seqId + " cannot grow by " + numNewTokens
                    + " tokens: " + pool.availableBlocks() + " KV blocks available (check canAllocate first)");
        }
        seq.append(pool.allocate(blocksFor(seq.numTokens + numNewTokens) - seq.numBlocks()));
        seq.numTokens += numNewTokens;
    }

    /**
     * Records that the KV of tokens[0, numComputed) is written: each newly full block is put into the
     * prefix index so that later prompts can share it. {@code tokens} is the sequence so far.
     */
    public void commitComputedTokens(long seqId, int[] tokens, int numComputed) {
        SequenceBlocks seq = sequence(seqId);
        if (numComputed > seq.numTokens || numComputed > tokens.length) {
            throw new IllegalArgumentException("sequence " + seqId + ": " + numComputed + " computed tokens but "
                    + seq.numTokens + " slots and " + tokens.length + " token ids");
        }
        while ((seq.committedBlocks + 1) * blockSize <= numComputed) {
            int from = seq.committedBlocks * blockSize;
            BlockHash hash = hasher.hash(seq.lastHash, tokens, from, from + blockSize);
            PrefixBlock existing = pool.lookup(hash);
            if (existing != null && existing.holds(seq.lastContentId, tokens, from)) {
                // Same content already cached by another sequence: keep that one, chain onto it.
                seq.lastContentId = existing.contentId();
            } else {
                int blockId = seq.block(seq.committedBlocks);
                seq.lastContentId = pool.cache(blockId, hash, seq.lastContentId, tokens, from, from + blockSize).contentId();
            }
            seq.lastHash = hash;
            seq.committedBlocks++;
        }
    }

    /**
     * Releases a sequence's blocks, last block first so that a prompt's tail is evicted before its
     * head. Returns false when the sequence has no blocks (already freed).
     */
    public boolean freeSequence(long seqId) {
        SequenceBlocks seq = sequences.remove(seqId);
        if (seq == null) {
            return false;
        }
        for (int i = seq.numBlocks() - 1; i >= 0; i--) {
            pool.free(seq.block(i));
        }
        return true;
    }

    public boolean contains(long seqId) {
        return sequences.containsKey(seqId);
    }

    public int numSequences() {
        return sequences.size();
    }

    /** A copy of the sequence's block table. */
    public int[] blockTable(long seqId) {
        return sequence(seqId).table();
    }

    /** Token positions of the sequence that have a slot. */
    public int numSlots(long seqId) {
        return sequence(seqId).numTokens;
    }

    /** The cache slot of a token position: block id x block size + offset. */
    public int slot(long seqId, int position) {
        SequenceBlocks seq = sequence(seqId);
        if (position < 0 || position >= seq.numTokens) {
            throw new IndexOutOfBoundsException("sequence " + seqId + " has slots for positions 0.."
                    + (seq.numTokens - 1) + ", not " + position);
        }
        return seq.block(position / blockSize) * blockSize + position % blockSize;
    }

    /** Prompt tokens looked up in the prefix cache by {@link #allocateForPrompt}. */
    public long prefixQueriedTokens() {
        return queriedTokens;
    }

    /** Of those, tokens served from cached blocks. */
    public long prefixHitTokens() {
        return hitTokens;
    }

    /** Fraction of blocks referenced by sequences, 0..1 (cached blocks count as free). */
    public double usage() {
        return (double) pool.usedBlocks() / pool.totalBlocks();
    }

    public long capacityTokens() {
        return (long) pool.totalBlocks() * blockSize;
    }

    private int blocksFor(int numTokens) {
        return (numTokens + blockSize - 1) / blockSize;
    }

    private SequenceBlocks sequence(long seqId) {
        SequenceBlocks seq = sequences.get(seqId);
        if (seq == null) {
            throw new IllegalStateException("sequence " + seqId + " has no blocks");
        }
        return seq;
    }

    // Walks the chain of full blocks, verifying each hit, up to (promptLen - 1) rounded down to a block.
    private List<PrefixBlock> matchPrefix(int[] promptTokens) {
        int maxBlocks = Math.max(0, promptTokens.length - 1) / blockSize;
        List<PrefixBlock> hits = new ArrayList<>();
        BlockHash parent = BlockHash.ROOT;
        long parentId = PrefixBlock.ROOT_CONTENT_ID;
        for (int b = 0; b < maxBlocks; b++) {
            int from = b * blockSize;
            BlockHash hash = hasher.hash(parent, promptTokens, from, from + blockSize);
            PrefixBlock block = pool.lookup(hash);
            if (block == null || !block.holds(parentId, promptTokens, from)) {
                break;
            }
            hits.add(block);
            parent = hash;
            parentId = block.contentId();
        }
        return hits;
    }
}

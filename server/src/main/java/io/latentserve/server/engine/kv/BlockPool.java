package io.latentserve.server.engine.kv;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * Storage accounting for the paged KV cache: block ids 0..n-1, their reference counts, the free
 * list, and the prefix index of full blocks. One id names the same block in every layer.
 *
 * <p>Every block is in exactly one state: <em>used</em> (refcount &gt; 0), <em>free</em> (refcount 0,
 * no hash: handed out first) or <em>cached</em> (refcount 0, hashed: still reusable by a prefix hit,
 * evicted least-recently-freed first when a free block is needed).
 *
 * <p>Not thread-safe: owned by the engine loop.
 */
public final class BlockPool {
    private final int[] refCounts;
    private final PrefixBlock[] contents;          // non-null while the block is in the prefix index
    private final int[] freeStack;                 // blocks with refcount 0 and no hash
    private int freeTop;
    private final LinkedHashSet<Integer> evictable = new LinkedHashSet<>(); // oldest first
    private final Map<BlockHash, PrefixBlock> index = new HashMap<>();
    private long nextContentId;
    private int usedBlocks;

    public BlockPool(int numBlocks) {
        if (numBlocks < 1) {
            throw new IllegalArgumentException("numBlocks must be >= 1, got " + numBlocks);
        }
        refCounts = new int[numBlocks];
        contents = new PrefixBlock[numBlocks];
        freeStack = new int[numBlocks];
        for (int id = numBlocks - 1; id >= 0; id--) {
            freeStack[freeTop++] = id; // lowest ids on top, so a fresh pool hands out 0, 1, 2...
        }
    }

    public int totalBlocks() {
        return refCounts.length;
    }

    /** Unreferenced blocks without a hash. */
    public int freeBlocks() {
        return freeTop;
    }

    /** Unreferenced blocks still in the prefix index: reusable by a hit, evictable on demand. */
    public int cachedBlocks() {
        return evictable.size();
    }

    /** Blocks with a reference count above zero. */
    public int usedBlocks() {
        return usedBlocks;
    }

    /** Blocks that {@link #allocate} may hand out: free plus cached. */
    public int availableBlocks() {
        return freeTop + evictable.size();
    }

    public int refCount(int blockId) {
        return refCounts[checkId(blockId)];
    }

    public boolean canAllocate(int numBlocks) {
        return numBlocks >= 0 && numBlocks <= availableBlocks();
    }

    /**
     * Takes {@code numBlocks} blocks with refcount 1: free ones first, then evicts cached ones, least
     * recently freed first. Throws without changing anything when {@link #canAllocate} is false.
     */
    public int[] allocate(int numBlocks) {
        if (!canAllocate(numBlocks)) {
            throw new IllegalStateException("cannot allocate " + numBlocks + " KV blocks: " + freeTop
                    + " free + " + evictable.size() + " cached of " + totalBlocks()
                    + " (check canAllocate first)");
        }
        int[] ids = new int[numBlocks];
        for (int i = 0; i < numBlocks; i++) {
            int id = freeTop > 0 ? freeStack[--freeTop] : evictOldest();
            refCounts[id] = 1;
            ids[i] = id;
        }
        usedBlocks += numBlocks;
        return ids;
    }

    private int evictOldest() {
        Iterator<Integer> it = evictable.iterator();
        int id = it.next();
        it.remove();
        index.remove(contents[id].hash());
        contents[id] = null;
        return id;
    }

    /**
     * Takes one more reference to a block, as a prefix hit does. A cached block leaves the eviction
     * order; a free block cannot be touched (its content is meaningless).
     */
    public void touch(int blockId) {
        checkId(blockId);
        if (refCounts[blockId] == 0) {
            if (contents[blockId] == null) {
                throw new IllegalStateException("block " + blockId + " is free; only used or cached blocks can be touched");
            }
            evictable.remove(blockId);
            usedBlocks++;
        }
        refCounts[blockId]++;
    }

    /**
     * Drops one reference. At zero the block becomes cached (most recently used end of the eviction
     * order) if it is in the prefix index, free otherwise.
     */
    public void free(int blockId) {
        checkId(blockId);
        if (refCounts[blockId] == 0) {
            throw new IllegalStateException("block " + blockId + " freed more often than allocated");
        }
        if (--refCounts[blockId] > 0) {
            return;
        }
        usedBlocks--;
        if (contents[blockId] != null) {
            evictable.add(blockId);
        } else {
            freeStack[freeTop++] = blockId;
        }
    }

    /** The verified content registered under a key, or null. */
    public PrefixBlock lookup(BlockHash hash) {
        return index.get(hash);
    }

    /** The content of a block in the prefix index, or null when it carries no hash. */
    public PrefixBlock contentOf(int blockId) {
        return contents[checkId(blockId)];
    }

    /**
     * Puts a full, used block into the prefix index under {@code hash}, holding tokens[from, to).
     * Whatever block held the key before loses it (it keeps its data for its current owners, and goes
     * to the free list once unreferenced): the newest computation of a key wins.
     */
    public PrefixBlock cache(int blockId, BlockHash hash, long parentContentId, int[] tokens, int from, int to) {
        checkId(blockId);
        if (refCounts[blockId] == 0 || contents[blockId] != null) {
            throw new IllegalStateException("block " + blockId + " must be used and not yet hashed to be cached");
        }
        PrefixBlock previous = index.get(hash);
        if (previous != null) {
            dropHash(previous.blockId());
        }
        int[] blockTokens = java.util.Arrays.copyOfRange(tokens, from, to);
        PrefixBlock block = new PrefixBlock(blockId, hash, nextContentId++, parentContentId, blockTokens);
        contents[blockId] = block;
        index.put(hash, block);
        return block;
    }

    private void dropHash(int blockId) {
        index.remove(contents[blockId].hash());
        contents[blockId] = null;
        if (refCounts[blockId] == 0 && evictable.remove(blockId)) {
            freeStack[freeTop++] = blockId;
        }
    }

    private int checkId(int blockId) {
        if (blockId < 0 || blockId >= refCounts.length) {
            throw new IllegalArgumentException("block id " + blockId + " outside 0.." + (refCounts.length - 1));
        }
        return blockId;
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.memory.DeviceArena;
import io.latentserve.model.backend.KvCache;

/**
 * The paged KV cache in the KV arena, f32 like the CPU backend's (so both backends hold the same values):
 * per layer [numBlocks · blockSize, width], layers one after another. Zeroed at creation. Closing the
 * most recently created cache gives its memory back to the arena (caches are bump-allocated).
 */
final class CudaKvCache implements KvCache {
    private final DeviceArena arena;
    private final long base;
    private final long mark;
    private final int numLayers;
    private final int numBlocks;
    private final int blockSize;
    private final int width;
    private boolean closed;

    CudaKvCache(DeviceArena arena, long base, long mark, int numLayers, int numBlocks, int blockSize, int width) {
        this.arena = arena;
        this.base = base;
        this.mark = mark;
        this.numLayers = numLayers;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.width = width;
    }

    static long bytes(int numLayers, int numBlocks, int blockSize, int width) {
        return 4L * numLayers * numBlocks * blockSize * width;
    }

    /** Device address of row 0 of a layer. */
    long layer(int layer) {
        if (closed) {
            throw new IllegalStateException("KV cache is closed");
        }
        if (layer < 0 || layer >= numLayers) {
            throw new IllegalArgumentException("layer " + layer + " outside the cache's " + numLayers + " layers");
        }
        return base + 4L * layer * slots() * width;
    }

    int slots() {
        return numBlocks * blockSize;
    }

    @Override
    public int numLayers() {
        return numLayers;
    }

    @Override
    public int numBlocks() {
        return numBlocks;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public long bytesPerToken() {
        return 4L * width * numLayers;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            long end = DeviceArena.align(mark + bytes(numLayers, numBlocks, blockSize, width));
            if (arena.used() == end) {
                arena.resetTo(mark);
            }
        }
    }

    static CudaKvCache of(KvCache cache) {
        if (cache instanceof CudaKvCache c) {
            return c;
        }
        throw new IllegalArgumentException("expected a CUDA KV cache, got "
                + (cache == null ? "null" : cache.getClass().getSimpleName()));
    }
}

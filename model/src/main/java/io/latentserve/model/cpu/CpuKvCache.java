package io.latentserve.model.cpu;

import io.latentserve.model.backend.KvCache;

/** The paged cache in f32 on the heap: one array per layer, [numBlocks · blockSize, width]. */
final class CpuKvCache implements KvCache {
    private final float[][] layers;
    private final int numBlocks;
    private final int blockSize;
    private final int width;

    CpuKvCache(int numLayers, int numBlocks, int blockSize, int width) {
        long perLayer = (long) numBlocks * blockSize * width;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("CPU KV cache of " + numBlocks + " blocks x " + blockSize
                    + " tokens x " + width + " values per layer is too large for one array; use fewer blocks");
        }
        this.layers = new float[numLayers][(int) perLayer];
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.width = width;
    }

    float[] layer(int layer) {
        return layers[layer];
    }

    /** Index of the first value of a cache row (slot). */
    int rowOffset(int slot) {
        if (slot < 0 || slot >= numBlocks * blockSize) {
            throw new IllegalArgumentException("KV slot " + slot + " outside the cache (" + numBlocks * blockSize + " rows)");
        }
        return slot * width;
    }

    @Override
    public int numLayers() {
        return layers.length;
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
        return 4L * width * layers.length;
    }

    @Override
    public void close() {
        // heap memory: nothing to release eagerly
    }

    static CpuKvCache of(KvCache cache) {
        if (cache instanceof CpuKvCache c) {
            return c;
        }
        throw new IllegalArgumentException("expected a CPU KV cache, got " + cache.getClass().getSimpleName());
    }
}

package io.latentserve.model.cpu;

import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;

import java.util.Objects;

/**
 * The paged cache on the heap: one array per layer, [numBlocks · blockSize, width], f32 (float[]) or bf16
 * (short[]: really half the memory) by dtype; attention reads it through {@link KvRows}.
 */
final class CpuKvCache implements KvCache {
    private final KvRows[] layers;
    private final KvCacheDtype dtype;
    private final int numBlocks;
    private final int blockSize;
    private final int width;

    CpuKvCache(int numLayers, int numBlocks, int blockSize, int width, KvCacheDtype dtype) {
        long perLayer = (long) numBlocks * blockSize * width;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("CPU KV cache of " + numBlocks + " blocks x " + blockSize
                    + " tokens x " + width + " values per layer is too large for one array; use fewer blocks");
        }
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.layers = new KvRows[numLayers];
        for (int l = 0; l < numLayers; l++) {
            layers[l] = KvRows.allocate(dtype, (int) perLayer);
        }
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.width = width;
    }

    KvRows layer(int layer) {
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
    public KvCacheDtype dtype() {
        return dtype;
    }

    @Override
    public long bytesPerToken() {
        return (long) dtype.bytesPerValue() * width * layers.length;
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

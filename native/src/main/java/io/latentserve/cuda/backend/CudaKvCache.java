package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.memory.DeviceArena;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;

/**
 * The paged KV cache in the KV arena, f32 or bf16 like the CPU backend's of the same dtype (both round to
 * nearest even on write, so both backends hold the same values): per layer [numBlocks · blockSize, width]
 * elements, layers one after another. Zeroed at creation. Closing the most recently created cache gives its
 * memory back to the arena (caches are bump-allocated).
 */
final class CudaKvCache implements KvCache {
    private final DeviceArena arena;
    private final long base;
    private final long mark;
    private final int numLayers;
    private final int numBlocks;
    private final int blockSize;
    private final int width;
    private final KvCacheDtype dtype;
    private boolean closed;

    CudaKvCache(DeviceArena arena, long base, long mark, int numLayers, int numBlocks, int blockSize, int width,
                KvCacheDtype dtype) {
        this.arena = arena;
        this.base = base;
        this.mark = mark;
        this.numLayers = numLayers;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.width = width;
        this.dtype = dtype;
    }

    static long bytes(int numLayers, int numBlocks, int blockSize, int width, KvCacheDtype dtype) {
        return (long) dtype.bytesPerValue() * numLayers * numBlocks * blockSize * width;
    }

    /** Bytes of one cached value: 4 (f32) or 2 (bf16); device addresses inside a row advance by this. */
    int elementBytes() {
        return dtype.bytesPerValue();
    }

    /** The dtype code the kernels take (KernelLimits.DTYPE_F32 or DTYPE_BF16). */
    int kernelDtype() {
        return dtype == KvCacheDtype.BF16 ? KernelLimits.DTYPE_BF16 : KernelLimits.DTYPE_F32;
    }

    /** Device address of row 0 of a layer. */
    long layer(int layer) {
        if (closed) {
            throw new IllegalStateException("KV cache is closed");
        }
        if (layer < 0 || layer >= numLayers) {
            throw new IllegalArgumentException("layer " + layer + " outside the cache's " + numLayers + " layers");
        }
        return base + (long) elementBytes() * layer * slots() * width;
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
    public KvCacheDtype dtype() {
        return dtype;
    }

    @Override
    public long bytesPerToken() {
        return (long) elementBytes() * width * numLayers;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            long end = DeviceArena.align(mark + bytes(numLayers, numBlocks, blockSize, width, dtype));
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

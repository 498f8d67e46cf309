package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.memory.DeviceArena;
import io.latentserve.model.backend.KvCacheDtype;

/** Creates paged KV caches in the context's KV arena, zeroed. */
final class CudaKvCaches {
    private final CudaContext ctx;

    CudaKvCaches(CudaContext ctx) {
        this.ctx = ctx;
    }

    CudaKvCache create(int numLayers, int numBlocks, int blockSize, int width, KvCacheDtype dtype) {
        if (numLayers < 1 || numBlocks < 1 || blockSize < 1 || width < 1) {
            throw new IllegalArgumentException("KV cache of " + numLayers + " layers, " + numBlocks + " blocks of "
                    + blockSize + " tokens, " + width + " values per token");
        }
        if ((long) numBlocks * blockSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("KV cache of " + numBlocks + " x " + blockSize + " slots: slots are int32");
        }
        // whole 32-bit words, zeroed as such (a bf16 cache of an odd number of values rounds up by 2 bytes)
        long bytes = (CudaKvCache.bytes(numLayers, numBlocks, blockSize, width, dtype) + 3) & ~3L;
        DeviceArena arena = ctx.kvCache();
        if (bytes > arena.remaining()) {
            throw new IllegalArgumentException(dtype + " KV cache of " + numBlocks + " blocks needs " + bytes + " bytes but the KV"
                    + " arena has " + arena.remaining() + " left: use fewer blocks or more --kv-cache-memory");
        }
        long mark = arena.mark();
        long base = arena.allocate(bytes);
        ctx.driver().memsetD32Async(base, 0, bytes / 4, ctx.stream());
        return new CudaKvCache(arena, base, mark, numLayers, numBlocks, blockSize, width, dtype);
    }
}

package io.latentserve.server.engine.kv;

import io.latentserve.model.MemorySize;

/** Turns a memory budget into a block count, and parses the {@code --kv-cache-memory} option. */
public final class KvCacheSizing {
    private KvCacheSizing() {
    }

    /** Whole blocks that fit in {@code bytes}, given the cache bytes of one token across all layers. */
    public static int blocksFor(long bytes, int bytesPerTokenAllLayers, int blockSize) {
        if (bytes < 0 || bytesPerTokenAllLayers < 1 || blockSize < 1) {
            throw new IllegalArgumentException("need bytes >= 0, bytesPerTokenAllLayers >= 1 and blockSize >= 1, got "
                    + bytes + ", " + bytesPerTokenAllLayers + ", " + blockSize);
        }
        long blocks = bytes / ((long) bytesPerTokenAllLayers * blockSize);
        return (int) Math.min(blocks, Integer.MAX_VALUE);
    }

    /**
     * Parses a {@code --kv-cache-memory} value into bytes. Accepted: a byte count ("1073741824"),
     * a size with a unit ("8GiB", "512MB", "1.5 GiB"; KiB/MiB/GiB/TiB are powers of 1024,
     * KB/MB/GB/TB powers of 1000, B bytes), or a fraction in (0, 1] of {@code availableBytes}
     * written with a decimal point ("0.9", "1.0").
     */
    public static long parseMemory(String value, long availableBytes) {
        return MemorySize.parse("--kv-cache-memory", value, availableBytes);
    }
}

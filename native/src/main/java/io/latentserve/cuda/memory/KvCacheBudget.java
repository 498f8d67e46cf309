package io.latentserve.cuda.memory;

import io.latentserve.model.MemorySize;

/**
 * How many bytes of device memory the latent KV cache gets, from --kv-cache-memory (see {@link MemorySize}
 * for the grammar) and the memory free once weights and activations are in place.
 */
public final class KvCacheBudget {
    public static final String OPTION = "--kv-cache-memory";

    private KvCacheBudget() {
    }

    /**
     * Bytes for the KV cache: a fraction is taken of {@code freeBytes}; an absolute size larger than
     * {@code freeBytes} is an error here, with both numbers, rather than a cuMemAlloc failure later.
     */
    public static long kvBytes(long freeBytes, String kvCacheMemoryOption) {
        if (freeBytes < 0) {
            throw new IllegalArgumentException("free device memory must be >= 0, got " + freeBytes);
        }
        long bytes = parse(kvCacheMemoryOption, freeBytes);
        if (bytes > freeBytes) {
            throw new IllegalArgumentException(OPTION + " " + kvCacheMemoryOption.strip() + " asks for "
                    + MemorySize.human(bytes) + " but only " + MemorySize.human(freeBytes)
                    + " of device memory is free after the weights and activations");
        }
        return bytes;
    }

    /** The option in bytes, fractions taken of {@code availableBytes}. */
    public static long parse(String value, long availableBytes) {
        return MemorySize.parse(OPTION, value, availableBytes);
    }
}

package io.latentserve.cuda;

import io.latentserve.cuda.memory.KvCacheBudget;
import io.latentserve.model.MemorySize;

import java.util.Objects;

/**
 * How the device memory free after context creation is split into the three arenas. Each size is a
 * {@link MemorySize} option (bytes, "8GiB", or a fraction like "0.5"), resolved in this order:
 * activations (fraction of free), weights (fraction of what activations left), then the KV cache
 * (--kv-cache-memory, fraction of what is left after a {@link #RESERVE_BYTES} headroom). The KV cache comes
 * last because it should take whatever the model does not need.
 *
 * <p>{@link #fromSystemProperties()} reads {@code -Dlatentserve.cuda.weightMemory} (default "0.5"),
 * {@code -Dlatentserve.cuda.activationMemory} (default "2GiB") and {@code -Dlatentserve.kvCacheMemory}
 * (default "0.9"); the server sets these from its options.
 */
public record CudaMemoryPlan(String weightMemory, String kvCacheMemory, String activationMemory) {
    /** Left unallocated for the kernel module, CUDA graphs, cuBLAS's internals and the driver itself. */
    public static final long RESERVE_BYTES = 1L << 30;

    public static final String DEFAULT_WEIGHT_MEMORY = "0.5";
    public static final String DEFAULT_KV_CACHE_MEMORY = "0.9";
    public static final String DEFAULT_ACTIVATION_MEMORY = "2GiB";

    public CudaMemoryPlan {
        Objects.requireNonNull(weightMemory);
        Objects.requireNonNull(kvCacheMemory);
        Objects.requireNonNull(activationMemory);
    }

    public static CudaMemoryPlan fromSystemProperties() {
        return new CudaMemoryPlan(
                System.getProperty("latentserve.cuda.weightMemory", DEFAULT_WEIGHT_MEMORY),
                System.getProperty("latentserve.kvCacheMemory", DEFAULT_KV_CACHE_MEMORY),
                System.getProperty("latentserve.cuda.activationMemory", DEFAULT_ACTIVATION_MEMORY));
    }

    /** Arena sizes in bytes. */
    public record Sizes(long weightBytes, long kvBytes, long activationBytes) {
    }

    /** Splits {@code freeBytes} (device memory free once the context exists) into the three arenas. */
    public Sizes resolve(long freeBytes) {
        long activations = MemorySize.parse("latentserve.cuda.activationMemory", activationMemory, freeBytes);
        long afterActivations = freeBytes - activations;
        if (afterActivations < 0) {
            throw new IllegalArgumentException("activation memory " + MemorySize.human(activations)
                    + " exceeds the " + MemorySize.human(freeBytes) + " of free device memory");
        }
        long weights = MemorySize.parse("latentserve.cuda.weightMemory", weightMemory, afterActivations);
        long forKv = afterActivations - weights - RESERVE_BYTES;
        if (forKv < 0) {
            throw new IllegalArgumentException("weights " + MemorySize.human(weights) + " + activations "
                    + MemorySize.human(activations) + " + reserve " + MemorySize.human(RESERVE_BYTES)
                    + " exceed the " + MemorySize.human(freeBytes) + " of free device memory");
        }
        return new Sizes(weights, KvCacheBudget.kvBytes(forKv, kvCacheMemory), activations);
    }
}

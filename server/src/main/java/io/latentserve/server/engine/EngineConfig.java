package io.latentserve.server.engine;

import io.latentserve.model.backend.KvCacheDtype;

import java.util.Objects;

/**
 * Scheduler and cache limits.
 *
 * @param maxNumSeqs          sequences in one batch
 * @param maxBatchedTokens    tokens in one forward pass (prefill chunks + decode tokens)
 * @param blockSize           KV cache block size in tokens (a power of two)
 * @param numBlocks           KV cache blocks (capacity = numBlocks · blockSize tokens)
 * @param maxModelLen         longest prompt + completion
 * @param maxQueuedRequests   waiting requests beyond which submissions are refused (429)
 * @param deviceSampling      let a backend that can sample on the device do so for requests that need nothing
 *                            else (no bias, penalties, min-p or logprobs); the tokens are the same either way
 * @param kvCacheDtype        element type of the KV cache (--kv-cache-dtype; f32 unless asked)
 * @param asyncScheduling     (--async-scheduling, off unless asked, as vLLM) launch the next step before the host
 *                            has seen this step's tokens (its inputs name the device-sampled ones), so the host's
 *                            work overlaps the device's; the tokens are the same either way. No effect without
 *                            device sampling
 */
public record EngineConfig(int maxNumSeqs, int maxBatchedTokens, int blockSize, int numBlocks, int maxModelLen,
                           int maxQueuedRequests, boolean deviceSampling, KvCacheDtype kvCacheDtype,
                           boolean asyncScheduling) {
    /** The server's default (serve --device-sampling, and the engine benchmarks): on where the backend can. */
    public static final boolean DEFAULT_DEVICE_SAMPLING = true;

    /** With device sampling at its default and an f32 KV cache. */
    public EngineConfig(int maxNumSeqs, int maxBatchedTokens, int blockSize, int numBlocks, int maxModelLen,
                        int maxQueuedRequests) {
        this(maxNumSeqs, maxBatchedTokens, blockSize, numBlocks, maxModelLen, maxQueuedRequests, DEFAULT_DEVICE_SAMPLING);
    }

    /** With an f32 KV cache. */
    public EngineConfig(int maxNumSeqs, int maxBatchedTokens, int blockSize, int numBlocks, int maxModelLen,
                        int maxQueuedRequests, boolean deviceSampling) {
        this(maxNumSeqs, maxBatchedTokens, blockSize, numBlocks, maxModelLen, maxQueuedRequests, deviceSampling,
                KvCacheDtype.F32);
    }

    /** Without async scheduling (the default). */
    public EngineConfig(int maxNumSeqs, int maxBatchedTokens, int blockSize, int numBlocks, int maxModelLen,
                        int maxQueuedRequests, boolean deviceSampling, KvCacheDtype kvCacheDtype) {
        this(maxNumSeqs, maxBatchedTokens, blockSize, numBlocks, maxModelLen, maxQueuedRequests, deviceSampling,
                kvCacheDtype, false);
    }

    public EngineConfig {
        Objects.requireNonNull(kvCacheDtype, "kvCacheDtype");
        if (maxNumSeqs < 1 || maxBatchedTokens < 1 || numBlocks < 1 || maxModelLen < 2 || maxQueuedRequests < 1) {
            throw new IllegalArgumentException("engine limits must be positive: " + this);
        }
        if (blockSize < 1 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("--block-size must be a power of two, got " + blockSize);
        }
    }

    /** This configuration with device sampling switched on or off (everything else, the cache dtype too, kept). */
    public EngineConfig withDeviceSampling(boolean on) {
        return new EngineConfig(maxNumSeqs, maxBatchedTokens, blockSize, numBlocks, maxModelLen, maxQueuedRequests, on,
                kvCacheDtype, asyncScheduling);
    }

    /** This configuration with async scheduling switched on or off (everything else kept). */
    public EngineConfig withAsyncScheduling(boolean on) {
        return new EngineConfig(maxNumSeqs, maxBatchedTokens, blockSize, numBlocks, maxModelLen, maxQueuedRequests,
                deviceSampling, kvCacheDtype, on);
    }

    public long capacityTokens() {
        return (long) numBlocks * blockSize;
    }
}

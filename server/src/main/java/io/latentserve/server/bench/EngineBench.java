package io.latentserve.server.bench;

import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.tokenizer.Tokenizer;
import io.latentserve.server.engine.Engine;
import io.latentserve.server.engine.EngineConfig;
import io.latentserve.server.engine.EngineListener;
import io.latentserve.server.engine.GenerationOutput;
import io.latentserve.server.engine.GenerationRequest;
import io.latentserve.server.engine.RequestHandle;
import io.latentserve.server.engine.sample.SamplingParams;
import io.latentserve.server.engine.sample.StopConditions;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Engine-level throughput, the way the server runs a model: B requests of C random prompt tokens and N
 * greedy new tokens each, submitted at once to an {@link Engine} (scheduler, chunked prefill, paged KV
 * cache, sampling (on the device where the backend can, as the server does by default), detokenisation), drained by one client thread per request. Prefill
 * throughput is the prompt tokens over the time until every request has its first token; decode
 * throughput is the tokens generated after that over the time until the last request finishes (with
 * continuous batching the phases overlap a little at their border; the figures say so by construction).
 */
public final class EngineBench {
    public static final int BLOCK_SIZE = 64;

    /** One run: its shape and the two throughputs. */
    public record Result(int batch, int context, int newTokens, double prefillTokensPerSecond,
                         double decodeTokensPerSecond, double seconds, boolean deviceSampling,
                         boolean asyncScheduling) {
    }

    private EngineBench() {
    }

    /** As {@link #run(CausalLM, Tokenizer, int, int, int, int, boolean, KvCacheDtype)} with the server's defaults. */
    public static Result run(CausalLM model, Tokenizer tokenizer, int batch, int context, int newTokens,
                             int maxBatchedTokens) throws InterruptedException {
        return run(model, tokenizer, batch, context, newTokens, maxBatchedTokens, EngineConfig.DEFAULT_DEVICE_SAMPLING,
                KvCacheDtype.F32);
    }

    /** With an f32 KV cache. */
    public static Result run(CausalLM model, Tokenizer tokenizer, int batch, int context, int newTokens,
                             int maxBatchedTokens, boolean deviceSampling) throws InterruptedException {
        return run(model, tokenizer, batch, context, newTokens, maxBatchedTokens, deviceSampling, KvCacheDtype.F32);
    }

    /**
     * Runs B requests of context prompt tokens and newTokens new tokens each through a fresh engine; with
     * deviceSampling (the engine's switch) a backend that samples rows itself does so; the KV cache is of
     * cacheDtype.
     */
    public static Result run(CausalLM model, Tokenizer tokenizer, int batch, int context, int newTokens,
                             int maxBatchedTokens, boolean deviceSampling, KvCacheDtype cacheDtype)
            throws InterruptedException {
        return run(model, tokenizer, batch, context, newTokens, maxBatchedTokens, deviceSampling, cacheDtype, false);
    }

    /** As above, with async scheduling (the engine's switch: steady decode pipelined where it applies). */
    public static Result run(CausalLM model, Tokenizer tokenizer, int batch, int context, int newTokens,
                             int maxBatchedTokens, boolean deviceSampling, KvCacheDtype cacheDtype,
                             boolean asyncScheduling) throws InterruptedException {
        return run(model, tokenizer, batch, context, newTokens, maxBatchedTokens, deviceSampling, cacheDtype,
                asyncScheduling, SamplingParams.greedy());
    }

    /**
     * As above, every request sampling with these params (greedy elsewhere; penalties or a logit bias here time
     * the logit edits: LogitEdits on the device, the host sampler without device sampling).
     */
    public static Result run(CausalLM model, Tokenizer tokenizer, int batch, int context, int newTokens,
                             int maxBatchedTokens, boolean deviceSampling, KvCacheDtype cacheDtype,
                             boolean asyncScheduling, SamplingParams sampling) throws InterruptedException {
        if (batch < 1 || context < 1 || newTokens < 2 || maxBatchedTokens < 1) {
            throw new IllegalArgumentException("batch, context >= 1, new tokens >= 2, batched tokens >= 1");
        }
        int maxLen = context + newTokens + 1;
        int blocksPerSeq = (maxLen + BLOCK_SIZE - 1) / BLOCK_SIZE;
        EngineConfig config = new EngineConfig(batch, maxBatchedTokens, BLOCK_SIZE, batch * blocksPerSeq + 1, maxLen,
                batch, deviceSampling, cacheDtype, asyncScheduling);
        int vocab = model.config().vocabSize();
        SplittableRandom rnd = new SplittableRandom(31L * batch + context);
        try (Engine engine = new Engine(model, tokenizer, config, EngineListener.NONE);
             var clients = Executors.newVirtualThreadPerTaskExecutor()) {
            long start = System.nanoTime();
            List<Future<long[]>> timings = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                int[] prompt = rnd.ints(context, 0, vocab).toArray();
                RequestHandle handle = engine.submit(new GenerationRequest("bench-" + i, prompt,
                        sampling, StopConditions.lengthOnly(newTokens, context, maxLen)));
                timings.add(clients.submit(() -> drain(handle)));
            }
            long firstAll = 0;
            long end = 0;
            for (Future<long[]> f : timings) {
                long[] t;
                try {
                    t = f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException("a bench request failed", e.getCause());
                }
                firstAll = Math.max(firstAll, t[0]);
                end = Math.max(end, t[1]);
            }
            double prefillSeconds = (firstAll - start) / 1e9;
            double decodeSeconds = (end - firstAll) / 1e9;
            return new Result(batch, context, newTokens, (double) batch * context / prefillSeconds,
                    (double) batch * (newTokens - 1) / decodeSeconds, (end - start) / 1e9, engine.samplesOnDevice(),
                    engine.asyncScheduling());
        }
    }

    /** Reads a request to its end: {nanoTime of its first token, nanoTime of its last output}. */
    private static long[] drain(RequestHandle handle) throws InterruptedException {
        long first = 0;
        while (true) {
            GenerationOutput out = handle.next(10, TimeUnit.MINUTES);
            if (out == null) {
                throw new IllegalStateException("request " + handle.requestId() + " produced nothing for 10 minutes");
            }
            if (first == 0 && !out.tokens().isEmpty()) {
                first = System.nanoTime();
            }
            if (out.finished()) {
                if (out.error() != null) {
                    throw new IllegalStateException("request " + handle.requestId() + " failed: " + out.error());
                }
                return new long[]{first == 0 ? System.nanoTime() : first, System.nanoTime()};
            }
        }
    }
}

package io.latentserve.server.engine;

import io.latentserve.model.backend.DecodeBuckets;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.tokenizer.Tokenizer;
import io.latentserve.server.engine.kv.BlockPool;
import io.latentserve.server.engine.kv.KvCacheManager;
import io.latentserve.server.engine.sample.FinishReason;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The serving engine: one loop thread owns the model, the KV cache and the scheduler. Requests enter
 * through a thread-safe intake and leave as outputs on their {@link RequestHandle}. Each iteration
 * schedules a batch, runs the model once, samples, applies stop rules and frees what finished: the engine
 * takes requests in and decides what to run; {@link StepExecutor} runs it and {@link TokenAcceptor} takes
 * each row's token into its sequence and finishes sequences.
 *
 * <p>With async scheduling ({@link EngineConfig#asyncScheduling}, where the backend samples rows) steady
 * decode is pipelined: after launching step N, step N+1 is scheduled and launched for the sequences whose
 * step-N token the device sampled (its inputs name those tokens by markers), and only then are step N's
 * tokens awaited and accepted, while the device runs N+1. A sequence step N finishes has its N+1 row thrown
 * away, and its KV blocks are freed once N+1 is awaited (N+1 still writes its slot). Anything else (prefill,
 * host-sampled rows, new or cancelled requests, too little free KV) awaits the launched step and schedules
 * as usual, so that every step has the sequences and tokens the synchronous loop would give it.
 */
public final class Engine implements AutoCloseable {
    private final EngineConfig config;
    private final CausalLM model;
    private final Tokenizer tokenizer;
    private final KvCache cache;
    private final KvCacheManager kv;
    private final Scheduler scheduler;
    private final ModelRunner runner;
    private final EngineListener listener;
    private final ConcurrentLinkedQueue<Sequence> intake = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<RequestHandle> cancellations = new ConcurrentLinkedQueue<>();
    private final Map<RequestHandle, Sequence> live = new ConcurrentHashMap<>();
    private final AtomicInteger queued = new AtomicInteger();       // intake + waiting, for the queue limit
    private final AtomicLong nextId = new AtomicLong();
    private final Thread loop;
    private final EngineCounters counters = new EngineCounters();
    private volatile boolean accepting = true;
    private volatile boolean stopped;
    private volatile EngineStats stats;
    private final boolean asyncScheduling;
    private final LaunchedSteps launched;                           // async scheduling's steps in flight
    private final TokenAcceptor acceptor;                           // a run's tokens into their sequences; finishing
    private final StepExecutor steps;                               // runs (or launches) the scheduled batches

    public Engine(CausalLM model, Tokenizer tokenizer, EngineConfig config, EngineListener listener) {
        this.config = config;
        this.model = model;
        this.tokenizer = tokenizer;
        this.listener = listener == null ? EngineListener.NONE : listener;
        boolean deviceSampling = config.deviceSampling() && model.backend().samplesRows();
        // decode steps padded to the backend's buckets (CUDA graphs) use one more cache block, outside the pool
        DecodeBuckets buckets = deviceSampling ? model.backend().decodeBuckets() : DecodeBuckets.NONE;
        int cacheBlocks = config.numBlocks() + (buckets.pads() ? 1 : 0);
        this.cache = model.newKvCache(cacheBlocks, config.blockSize(), config.kvCacheDtype());
        this.kv = new KvCacheManager(new BlockPool(config.numBlocks()), config.blockSize());
        this.scheduler = new Scheduler(config, kv);
        this.runner = new ModelRunner(model, cache, kv, deviceSampling, buckets, config.numBlocks(),
                config.maxNumSeqs());
        this.asyncScheduling = config.asyncScheduling() && runner.deviceSampling();
        this.launched = new LaunchedSteps(kv);
        this.acceptor = new TokenAcceptor(scheduler, kv, launched, counters, this.listener, live, queued);
        this.steps = new StepExecutor(runner, scheduler, launched, acceptor, counters, this.listener);
        this.stats = snapshot();
        this.loop = Thread.ofPlatform().name("latentserve-engine").daemon(true).start(this::runLoop);
    }

    public EngineConfig config() {
        return config;
    }

    public CausalLM model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Whether eligible requests are sampled by the backend (switched on and supported by it). */
    public boolean samplesOnDevice() {
        return runner.deviceSampling();
    }

    /** Whether steps are pipelined (async scheduling switched on, and the backend samples rows). */
    public boolean asyncScheduling() {
        return asyncScheduling;
    }

    /**
     * Queues a request. Throws EngineException (changing nothing) when the waiting queue is full, the
     * server is shutting down, or the request could never fit the context or the KV cache.
     */
    public RequestHandle submit(GenerationRequest request) {
        if (!accepting) {
            throw new EngineException(EngineException.Kind.SHUTTING_DOWN, "the server is shutting down");
        }
        checkFits(request);
        if (queued.incrementAndGet() > config.maxQueuedRequests()) {
            queued.decrementAndGet();
            rejected("queue_full");
            throw new EngineException(EngineException.Kind.QUEUE_FULL, "too many requests are waiting ("
                    + config.maxQueuedRequests() + "); retry later");
        }
        RequestHandle handle = new RequestHandle(request.requestId(), this::requestCancel);
        Sequence seq = new Sequence(nextId.incrementAndGet(), request, handle, tokenizer);
        live.put(handle, seq);
        intake.add(seq);
        LockSupport.unpark(loop);
        return handle;
    }

    private void checkFits(GenerationRequest request) {
        int prompt = request.promptTokens().length;
        int total = prompt + request.stop().maxTokens();
        if (total > config.maxModelLen()) {
            rejected("invalid");
            throw new EngineException(EngineException.Kind.INVALID, "This model's maximum context length is "
                    + config.maxModelLen() + " tokens. However, you requested " + total + " tokens (" + prompt
                    + " in the messages, " + request.stop().maxTokens() + " in the completion). Please reduce the "
                    + "length of the messages or completion.");
        }
        long blocks = (total + config.blockSize() - 1) / config.blockSize();
        if (blocks > config.numBlocks()) {
            rejected("invalid");
            throw new EngineException(EngineException.Kind.INVALID, "the request needs " + total
                    + " tokens of KV cache but the server holds " + config.capacityTokens()
                    + " in all; reduce the prompt or max_tokens");
        }
    }

    /** A refused submission never becomes a request: it is reported to the listener (metrics), not counted as finished. */
    private void rejected(String reason) {
        listener.onRejected(reason);
    }

    private void requestCancel(RequestHandle handle) {
        cancellations.add(handle);
        LockSupport.unpark(loop);
    }

    /** The latest snapshot, refreshed after every iteration. */
    public EngineStats stats() {
        return stats;
    }

    private void runLoop() {
        try {
            loop();
        } finally {
            launched.abandon(); // the cache is closed after the loop: no launched pass may still write it
        }
    }

    private void loop() {
        while (!stopped) {
            try {
                iterate();
            } catch (RuntimeException | Error e) {
                // A bug must not leave requests hanging: fail what is in flight, keep serving.
                System.err.println("latentserve engine: iteration failed: " + e);
                launched.abandon();
                for (Sequence seq : scheduler.allSequences()) {
                    acceptor.finish(seq, List.of(), "", FinishReason.ERROR,
                            "internal engine error: " + e.getMessage());
                }
            }
        }
    }

    private void iterate() {
        if (asyncScheduling) {
            iterateAsync();
            return;
        }
        List<Scheduler.Chunk> chunks = scheduleOrIdle();
        if (chunks.isEmpty()) {
            return;
        }
        steps.step(chunks);
        stats = snapshot();
    }

    /** Takes in new and cancelled requests and schedules a step; with nothing to run, idles a moment instead. */
    private List<Scheduler.Chunk> scheduleOrIdle() {
        drainIntake();
        drainCancellations();
        List<Scheduler.Chunk> chunks = scheduler.schedule();
        if (chunks.isEmpty()) {
            stats = snapshot();
            LockSupport.parkNanos(50_000_000L);
        }
        return chunks;
    }

    private void drainIntake() {
        for (Sequence seq; (seq = intake.poll()) != null; ) {
            scheduler.addWaiting(seq);
        }
    }

    private void drainCancellations() {
        for (RequestHandle h; (h = cancellations.poll()) != null; ) {
            Sequence seq = live.get(h);
            if (seq != null) {
                acceptor.finish(seq, List.of(), "", FinishReason.ABORT, null);
            }
        }
    }

    /**
     * One turn of the pipelined loop (async scheduling): with nothing launched, schedule and launch as usual;
     * then let the step executor launch the next step ahead where it can (new requests join it as waiting ones;
     * not while cancellations wait: they change what the next step holds) and accept the launched step's tokens.
     */
    private void iterateAsync() {
        if (!steps.inFlight()) {
            List<Scheduler.Chunk> chunks = scheduleOrIdle();
            if (chunks.isEmpty()) {
                return;
            }
            if (!steps.launchFirst(chunks)) {
                stats = snapshot();
                return;
            }
        }
        drainIntake();
        steps.advance(cancellations.isEmpty());
        stats = snapshot();
    }

    private EngineStats snapshot() {
        BlockPool pool = kv.pool();
        return new EngineStats(scheduler.numRunning(), scheduler.numWaiting() + intake.size(), kv.usage(),
                kv.capacityTokens(), pool.availableBlocks(), pool.totalBlocks(), counters.promptTokens(),
                counters.generationTokens(), scheduler.preemptions(), kv.prefixQueriedTokens(), kv.prefixHitTokens(),
                counters.iterations(), counters.maxBatchSeqs(), counters.maxBatchTokens(), counters.finishedByReason());
    }

    /**
     * Stops accepting requests, lets running ones finish for up to `grace`, then aborts the rest
     * (each gets a final output with finish reason ABORT) and stops the loop.
     */
    public void shutdown(Duration grace) {
        accepting = false;
        long deadline = System.nanoTime() + grace.toNanos();
        while (!live.isEmpty() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(20_000_000L);
        }
        for (RequestHandle h : new ArrayList<>(live.keySet())) {
            h.cancel();
        }
        long abortDeadline = System.nanoTime() + 5_000_000_000L;
        while (!live.isEmpty() && System.nanoTime() < abortDeadline) {
            LockSupport.parkNanos(10_000_000L);
        }
        stopped = true;
        LockSupport.unpark(loop);
        try {
            loop.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
        cache.close();
    }
}

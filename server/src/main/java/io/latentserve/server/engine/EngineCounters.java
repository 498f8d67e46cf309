package io.latentserve.server.engine;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Monotonic counters of the engine (updated by the loop, and by submitters for rejections). */
final class EngineCounters {
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder generationTokens = new LongAdder();
    private final LongAdder iterations = new LongAdder();
    private final AtomicLong maxBatchSeqs = new AtomicLong();
    private final AtomicLong maxBatchTokens = new AtomicLong();
    private final Map<String, LongAdder> finished = new ConcurrentHashMap<>();

    void prompt(int tokens) {
        promptTokens.add(tokens);
    }

    void generated(int tokens) {
        generationTokens.add(tokens);
    }

    void iteration(int seqs, int tokens) {
        iterations.increment();
        maxBatchSeqs.accumulateAndGet(seqs, Math::max);
        maxBatchTokens.accumulateAndGet(tokens, Math::max);
    }

    void finished(String reason) {
        finished.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    long promptTokens() {
        return promptTokens.sum();
    }

    long generationTokens() {
        return generationTokens.sum();
    }

    long iterations() {
        return iterations.sum();
    }

    int maxBatchSeqs() {
        return (int) maxBatchSeqs.get();
    }

    int maxBatchTokens() {
        return (int) maxBatchTokens.get();
    }

    Map<String, Long> finishedByReason() {
        Map<String, Long> out = new TreeMap<>();
        finished.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}

package io.latentserve.server.engine;

import io.latentserve.server.engine.kv.KvCacheManager;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;

/**
 * Iteration-level continuous batching (DESIGN.md): every sequence has numComputed, and each step grants
 * tokens until it reaches the sequence's length, under a token budget and a sequence cap. Running
 * sequences go first (decode tokens and unfinished prefill chunks), then waiting ones, first come first
 * served, starting after their cached prefix. When blocks run out, the newest running sequence is
 * preempted: its blocks are freed and it is recomputed later from its tokens, never dropped.
 * Policy only: which blocks is the KV cache manager's business.
 */
final class Scheduler {
    /** A sequence and how many of its uncomputed tokens run in this step. */
    record Chunk(Sequence seq, int start, int numTokens) {
        /** Whether this chunk reaches the sequence's last known token, so a new token is sampled after it. */
        boolean samples() {
            return start + numTokens == seq.length();
        }
    }

    private final EngineConfig config;
    private final KvCacheManager kv;
    private final Deque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> running = new ArrayList<>(); // oldest arrival first
    private long preemptions;

    Scheduler(EngineConfig config, KvCacheManager kv) {
        this.config = config;
        this.kv = kv;
    }

    void addWaiting(Sequence seq) {
        waiting.addLast(seq);
    }

    int numWaiting() {
        return waiting.size();
    }

    int numRunning() {
        return running.size();
    }

    long preemptions() {
        return preemptions;
    }

    boolean isIdle() {
        return waiting.isEmpty() && running.isEmpty();
    }

    List<Chunk> schedule() {
        List<Chunk> chunks = new ArrayList<>();
        int budget = config.maxBatchedTokens();
        boolean preempted = false;
        for (int i = 0; i < running.size() && budget > 0; i++) {
            Sequence seq = running.get(i);
            int n = Math.min(seq.numUncomputed(), budget);
            int extra = Math.max(0, seq.numComputed + n - kv.numSlots(seq.id));
            while (!kv.canAllocate(seq.id, extra)) {
                Sequence victim = running.getLast();
                preempt(victim);
                preempted = true;
                if (victim == seq) {
                    break;
                }
            }
            if (!kv.contains(seq.id)) {
                break; // seq itself was preempted: it was the newest, so nothing after it remains
            }
            kv.allocateSlots(seq.id, extra);
            chunks.add(new Chunk(seq, seq.numComputed, n));
            budget -= n;
        }
        if (!preempted) {
            budget = admitWaiting(chunks, budget);
        }
        return chunks;
    }

    /**
     * Async scheduling: the step after inflight (launched, its tokens not yet on the host), planned from what
     * inflight will have done, or null when inflight is to be awaited first. Each running sequence continues where
     * inflight leaves it: one that inflight samples on the device runs that token next (its position is the
     * sequence's length; the runner names it by a marker), unless that token ends it by length; one whose prefill
     * chunk in inflight does not reach its last token runs its next chunk (known tokens); one inflight does not
     * run goes on from its computed tokens. Then waiting requests are admitted as schedule() admits them. Null
     * when a sequence's next token comes from the host sampler (its logits are not back yet), when the KV cache
     * cannot give a sequence its slots (no preemption is planned ahead), or when nothing would run. A sequence
     * that inflight's token finishes has its row in this step thrown away when it is accepted.
     */
    List<Chunk> scheduleAhead(ModelRunner.Launched inflight) {
        List<Chunk> chunks = new ArrayList<>();
        int budget = config.maxBatchedTokens();
        for (int i = 0; i < running.size() && budget > 0; i++) {
            Sequence seq = running.get(i);
            Chunk last = inflight.chunkOf(seq);
            int start;
            int n;
            if (last == null) {
                start = seq.numComputed;
                n = Math.min(seq.numUncomputed(), budget);
            } else if (last.samples()) {
                if (inflight.deviceRow(seq) < 0) {
                    return null;
                }
                if (seq.lengthStopAfter(1)) {
                    continue;
                }
                start = seq.length();
                n = 1;
            } else {
                start = last.start() + last.numTokens();
                n = Math.min(seq.length() - start, budget);
            }
            int extra = Math.max(0, start + n - kv.numSlots(seq.id));
            if (!kv.canAllocate(seq.id, extra)) {
                return null; // slots given so far stay with their sequences: the next schedule() counts them
            }
            kv.allocateSlots(seq.id, extra);
            chunks.add(new Chunk(seq, start, n));
            budget -= n;
        }
        admitWaiting(chunks, budget);
        return chunks.isEmpty() ? null : chunks;
    }

    private int admitWaiting(List<Chunk> chunks, int budget) {
        while (!waiting.isEmpty() && budget > 0 && running.size() < config.maxNumSeqs()) {
            Sequence seq = waiting.peekFirst();
            int[] tokens = seq.allTokens();
            int cached = kv.findCachedPrefix(tokens);
            int n = Math.min(tokens.length - cached, budget);
            if (!kv.canAllocateForPrompt(tokens, n)) {
                break; // first come, first served: later requests wait behind it
            }
            int hit = kv.allocateForPrompt(seq.id, tokens, n);
            waiting.pollFirst();
            seq.numComputed = hit;
            if (seq.cachedPromptTokens < 0) {
                seq.cachedPromptTokens = Math.min(hit, seq.promptLength());
                seq.firstScheduledNanos = System.nanoTime();
            }
            insertRunning(seq);
            chunks.add(new Chunk(seq, hit, n));
            budget -= n;
        }
        return budget;
    }

    private void insertRunning(Sequence seq) {
        running.add(seq);
        running.sort(Comparator.comparingLong(s -> s.id));
    }

    private void preempt(Sequence seq) {
        running.remove(seq);
        kv.freeSequence(seq.id);
        seq.numComputed = 0;
        seq.preemptions++;
        preemptions++;
        waiting.addFirst(seq);
    }

    /** Removes a finished or cancelled sequence from wherever it is; frees its blocks. */
    void remove(Sequence seq) {
        detach(seq);
        kv.freeSequence(seq.id);
    }

    /**
     * Removes a finished sequence but keeps its blocks: a launched step still writes its KV (async
     * scheduling); the engine frees them with {@link KvCacheManager#freeSequence} once that step is awaited.
     */
    void detach(Sequence seq) {
        running.remove(seq);
        waiting.remove(seq);
    }

    List<Sequence> allSequences() {
        List<Sequence> all = new ArrayList<>(running);
        all.addAll(waiting);
        return all;
    }
}

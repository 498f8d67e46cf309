package io.latentserve.server.engine;

import io.latentserve.server.engine.kv.KvCacheManager;
import io.latentserve.server.engine.sample.FinishReason;
import io.latentserve.server.engine.sample.SampledToken;
import io.latentserve.server.engine.sample.Sampler;
import io.latentserve.server.engine.sample.StopDecision;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What becomes of a sequence once the model has run its chunk, on the engine's loop thread: the chunk's KV is
 * committed, its token (sampled by the backend, or here from its logits) appended, checked against the stop rules
 * and delivered. And the end of a sequence, whatever ends it (a stop rule, a failed model, a cancellation): its KV
 * blocks freed (or left to the launched step that still writes them), its request counted and reported, its last
 * output delivered.
 *
 * <p>The engine's registry of live requests and its count of waiting ones are shared with the engine's
 * submitters (both thread-safe): a request leaves them here.
 */
final class TokenAcceptor {
    private final Scheduler scheduler;
    private final KvCacheManager kv;
    private final LaunchedSteps launched;
    private final Sampler sampler = new Sampler();
    private final EngineCounters counters;
    private final EngineListener listener;
    private final Map<RequestHandle, Sequence> live;   // requests not yet finished
    private final AtomicInteger queued;                // intake + waiting, for the queue limit

    TokenAcceptor(Scheduler scheduler, KvCacheManager kv, LaunchedSteps launched, EngineCounters counters,
                  EngineListener listener, Map<RequestHandle, Sequence> live, AtomicInteger queued) {
        this.scheduler = scheduler;
        this.kv = kv;
        this.launched = launched;
        this.counters = counters;
        this.listener = listener;
        this.live = live;
        this.queued = queued;
    }

    /** A chunk has run: its KV is computed, then its token (device-sampled, or from its logits) is accepted. */
    int apply(Scheduler.Chunk c, int token, float[] logits) {
        Sequence seq = c.seq();
        if (leaveQueue(seq)) {
            counters.prompt(seq.promptLength());
        }
        seq.numComputed += c.numTokens();
        kv.commitComputedTokens(seq.id, seq.tokensView(), seq.numComputed);
        if (token >= 0) {
            accept(seq, new SampledToken(token, Float.NaN, List.of())); // no logprobs: as the Sampler
        } else if (logits != null) {
            accept(seq, sampler.sample(logits, seq.request.sampling(), seq.history(), seq.random));
        }
        return c.numTokens();
    }

    /** The model threw running (or launching, or awaiting) these chunks: each one's request fails. */
    void modelFailed(List<Scheduler.Chunk> chunks, RuntimeException e) {
        for (Scheduler.Chunk c : chunks) {
            finish(c.seq(), List.of(), "", FinishReason.ERROR, "the model failed: " + e.getMessage());
        }
    }

    /** Counts a sequence out of the waiting queue once (first admission or finish); true the first time. */
    private boolean leaveQueue(Sequence seq) {
        if (seq.leftQueue) {
            return false;
        }
        seq.leftQueue = true;
        queued.decrementAndGet();
        return true;
    }

    /** Appends the step's token (sampled on the host or by the backend), then stop checks and output. */
    private void accept(Sequence seq, SampledToken token) {
        seq.append(token.tokenId());
        long now = System.nanoTime();
        if (seq.firstTokenNanos == 0) {
            seq.firstTokenNanos = now;
            listener.onFirstToken(now - seq.arrivalNanos);
        } else {
            listener.onInterTokenLatency(now - seq.lastTokenNanos);
        }
        seq.lastTokenNanos = now;
        counters.generated(1);
        StopDecision d = seq.stopChecker.accept(token.tokenId(), seq.detokenizer.add(token.tokenId()));
        List<SampledToken> out = seq.request.sampling().logprobs() >= 0 ? List.of(token) : List.of();
        if (d.finished()) {
            String tail = d.finishReason() == FinishReason.LENGTH ? flushText(seq, d.text()) : d.text();
            finish(seq, out, tail, d.finishReason(), null);
        } else {
            seq.handle.deliver(output(seq, out, d.text(), null, null));
        }
    }

    /** At a length stop, bytes held back by the detokenizer are released (as a full decode would show them). */
    private static String flushText(Sequence seq, String text) {
        return text + seq.detokenizer.flush();
    }

    /** Ends a sequence (once: later calls do nothing) with its last tokens and text, delivered with the reason. */
    void finish(Sequence seq, List<SampledToken> tokens, String text, FinishReason reason, String error) {
        if (seq.finished) {
            return;                         // delivered before: its blocks are free, or wait for a launched step
        }
        if (launched.deferFree(seq)) {
            scheduler.detach(seq);          // a launched step still writes its KV: blocks freed once it is awaited
        } else {
            scheduler.remove(seq);
        }
        if (live.remove(seq.handle) == null) {
            return;
        }
        seq.finished = true;
        leaveQueue(seq);
        counters.finished(reason.apiName());
        listener.onFinished(new FinishedRequest(seq.requestId(), reason, seq.promptLength(), seq.numGenerated(),
                Math.max(0, seq.cachedPromptTokens), seq.preemptions, seq.arrivalNanos, seq.firstScheduledNanos,
                seq.firstTokenNanos, seq.lastTokenNanos, System.nanoTime()));
        seq.handle.deliver(output(seq, tokens, text, reason, error));
    }

    private static GenerationOutput output(Sequence seq, List<SampledToken> tokens, String text, FinishReason reason,
                                           String error) {
        return new GenerationOutput(seq.requestId(), tokens, text, reason, seq.promptLength(), seq.numGenerated(),
                Math.max(0, seq.cachedPromptTokens), error);
    }
}

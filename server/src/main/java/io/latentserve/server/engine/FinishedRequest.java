package io.latentserve.server.engine;

import io.latentserve.server.engine.sample.FinishReason;

/**
 * How one request went, for metrics: System.nanoTime() stamps (0 when the step never happened).
 *
 * @param arrivalNanos        submitted
 * @param firstScheduledNanos first admitted into a batch (end of queueing)
 * @param firstTokenNanos     first token sampled (end of prefill)
 * @param lastTokenNanos      last token sampled
 * @param finishedNanos       finished (or aborted)
 */
public record FinishedRequest(String requestId, FinishReason reason, int promptTokens, int generatedTokens,
                              int cachedTokens, int preemptions, long arrivalNanos, long firstScheduledNanos,
                              long firstTokenNanos, long lastTokenNanos, long finishedNanos) {

    public long queueNanos() {
        return firstScheduledNanos == 0 ? finishedNanos - arrivalNanos : firstScheduledNanos - arrivalNanos;
    }

    public long e2eNanos() {
        return finishedNanos - arrivalNanos;
    }

    /** From first scheduling to the first token; -1 when no token was produced. */
    public long prefillNanos() {
        return firstTokenNanos == 0 || firstScheduledNanos == 0 ? -1 : firstTokenNanos - firstScheduledNanos;
    }

    /** From the first to the last token; -1 when no token was produced. */
    public long decodeNanos() {
        return firstTokenNanos == 0 ? -1 : lastTokenNanos - firstTokenNanos;
    }
}

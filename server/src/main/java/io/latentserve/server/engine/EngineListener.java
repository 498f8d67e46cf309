package io.latentserve.server.engine;

import io.latentserve.server.engine.sample.FinishReason;

/**
 * Timings and events from the engine loop, for metrics. Called on the engine thread: implementations
 * must be quick and must not block.
 */
public interface EngineListener {
    EngineListener NONE = new EngineListener() {
    };

    default void onIteration(int sequences, int tokens, long nanos) {
    }

    default void onFirstToken(long nanosSinceArrival) {
    }

    default void onInterTokenLatency(long nanos) {
    }

    /** @param queueNanos time from arrival to first scheduling (0 if never scheduled) */
    default void onFinished(String requestId, FinishReason reason, int promptTokens, int generatedTokens,
                            long e2eNanos, long queueNanos) {
    }
}

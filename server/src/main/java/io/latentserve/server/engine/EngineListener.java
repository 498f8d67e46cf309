package io.latentserve.server.engine;

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

    default void onFinished(FinishedRequest request) {
    }

    /** A submission refused before it entered the engine ("queue_full", "invalid"). */
    default void onRejected(String reason) {
    }
}

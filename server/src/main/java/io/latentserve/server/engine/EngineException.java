package io.latentserve.server.engine;

/** A request the engine refuses at submission; nothing was allocated for it. */
public class EngineException extends RuntimeException {
    /** Why, so the API can answer with the right status. */
    public enum Kind {
        /** The waiting queue is full: retry later (HTTP 429). */
        QUEUE_FULL,
        /** The request can never run here, e.g. longer than the context or the whole KV cache (HTTP 400). */
        INVALID,
        /** The server is shutting down (HTTP 503). */
        SHUTTING_DOWN
    }

    private final Kind kind;

    public EngineException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}

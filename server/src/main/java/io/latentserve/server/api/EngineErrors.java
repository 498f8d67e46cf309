package io.latentserve.server.api;

import io.latentserve.server.engine.EngineException;

/** The HTTP meaning of the engine's refusals. */
final class EngineErrors {
    /** Seconds a client should wait after a 429: the queue drains as fast as sequences finish. */
    static final String RETRY_AFTER = "1";

    private EngineErrors() {
    }

    static ApiException toApi(EngineException e) {
        return switch (e.kind()) {
            case QUEUE_FULL -> new ApiException(429, "rate_limit_error", e.getMessage(), null, "rate_limit_exceeded",
                    RETRY_AFTER);
            case SHUTTING_DOWN -> new ApiException(503, "service_unavailable", e.getMessage(), null, null, null);
            case INVALID -> new ApiException(400, "invalid_request_error", e.getMessage(), null,
                    e.getMessage().startsWith("This model's maximum context length") ? "context_length_exceeded" : null,
                    null);
        };
    }
}

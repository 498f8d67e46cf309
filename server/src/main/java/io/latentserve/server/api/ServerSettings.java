package io.latentserve.server.api;

import io.latentserve.server.metrics.ServerMetrics;
import io.latentserve.server.security.ApiKeys;

import java.io.PrintStream;
import java.util.List;

/**
 * How the HTTP server is exposed: where it listens, who may call it, and what it records.
 *
 * @param maxBodyBytes   request bodies above this are refused (413)
 * @param apiKeys        keys for `Authorization: Bearer`; disabled when empty
 * @param authMetrics    whether /metrics needs a key too (it does not by default: scrapers rarely carry one)
 * @param authHealth     whether /health and /ready need a key (not by default: probes carry none)
 * @param allowedOrigins CORS origins allowed to call the API from a browser ("*" for any); empty = no CORS
 * @param accessLog      where to write one line per request, or null for none
 * @param metrics        the Prometheus registry served at /metrics, or null for none
 */
public record ServerSettings(String host, int port, long maxBodyBytes, ApiKeys apiKeys, boolean authMetrics,
                             boolean authHealth, List<String> allowedOrigins, PrintStream accessLog,
                             ServerMetrics metrics) {
    public ServerSettings {
        allowedOrigins = List.copyOf(allowedOrigins);
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("--max-body-bytes must be positive");
        }
    }

    /** Generous for long prompts, small enough that a runaway upload cannot exhaust the heap. */
    public static final long DEFAULT_MAX_BODY_BYTES = 64L << 20;
}

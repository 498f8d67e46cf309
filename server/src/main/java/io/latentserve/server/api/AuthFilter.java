package io.latentserve.server.api;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.latentserve.server.metrics.ServerMetrics;
import io.latentserve.server.security.ApiKeys;

/**
 * Checks `Authorization: Bearer KEY` on every API route (constant-time, see ApiKeys) and answers 401 in
 * OpenAI's error shape otherwise. Health probes, metrics and the playground page are open unless configured.
 */
final class AuthFilter implements Filter {
    private final ApiKeys keys;
    private final boolean authMetrics;
    private final boolean authHealth;
    private final Json json;
    private final ServerMetrics metrics;

    AuthFilter(ServerSettings settings, Json json) {
        this.keys = settings.apiKeys();
        this.authMetrics = settings.authMetrics();
        this.authHealth = settings.authHealth();
        this.json = json;
        this.metrics = settings.metrics();
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        if (!keys.enabled() || isOpen(req) || keys.acceptsAuthorization(req.headers().value(HeaderNames.AUTHORIZATION)
                .orElse(null))) {
            chain.proceed();
            return;
        }
        if (metrics != null) {
            metrics.rejected("unauthorized");
        }
        res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
        Http.error(res, json, new ApiException(401, "invalid_request_error", "Incorrect or missing API key. "
                + "Send it as 'Authorization: Bearer YOUR_KEY'.", null, "invalid_api_key", null));
    }

    private boolean isOpen(RoutingRequest req) {
        if (req.prologue().method() == Method.OPTIONS) {
            return true; // CORS preflights carry no credentials by design
        }
        String path = req.path().path();
        return switch (path) {
            case "/metrics" -> !authMetrics;
            case "/health", "/ready" -> !authHealth;
            default -> !path.startsWith("/v1/") && !path.startsWith("/beta/") && !isApiRoute(path);
        };
    }

    private static boolean isApiRoute(String path) {
        return path.equals("/infill") || path.equals("/completion") || path.equals("/tokenize")
                || path.equals("/detokenize");
    }
}

package io.latentserve.server.api;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.latentserve.server.engine.EngineException;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP server: OpenAI-compatible routes, llama.cpp's infill routes and vLLM's utilities over one engine.
 * Every route is guarded so that any failure, bad input or bug, is answered in OpenAI's error shape.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ApiServer.class.getName());

    private final WebServer server;
    private final ApiContext ctx;
    private final java.util.concurrent.atomic.AtomicInteger inFlight;

    private ApiServer(WebServer server, ApiContext ctx, java.util.concurrent.atomic.AtomicInteger inFlight) {
        this.server = server;
        this.ctx = ctx;
        this.inFlight = inFlight;
    }

    /**
     * Starts listening at once, whether or not the context is ready yet: /health answers from the start,
     * /ready and the model routes answer 503 until {@link ApiContext#ready} is called.
     */
    public static ApiServer start(ServerSettings settings, ApiContext ctx) {
        var inFlight = new java.util.concurrent.atomic.AtomicInteger();
        WebServer server = WebServer.builder()
                .host(settings.host())
                .port(settings.port())
                .shutdownHook(false) // the command shuts the engine and the server down in order itself
                .maxPayloadSize(settings.maxBodyBytes())
                .directHandlers(d -> TransportErrors.register(d, ctx.json(), settings.maxBodyBytes()))
                .routing(r -> {
                    r.addFilter((chain, req, res) -> {
                        inFlight.incrementAndGet();
                        try {
                            chain.proceed();
                        } finally {
                            inFlight.decrementAndGet();
                        }
                    });
                    filters(r, settings, ctx);
                    operations(r, settings, ctx);
                    PlaygroundRoute.register(r, ctx); // GET / and /playground/*: the browser playground
                    routes(r, ctx);
                })
                .build()
                .start();
        if (!server.isRunning()) {
            // Helidon logs the cause (e.g. the port is taken) and returns a stopped server rather than throwing.
            throw new IllegalStateException("cannot listen on " + settings.host() + ":" + settings.port()
                    + " (is the port in use? see the log above)");
        }
        return new ApiServer(server, ctx, inFlight);
    }

    /** Outermost first: the access log sees every request, CORS answers preflights before authentication. */
    private static void filters(HttpRouting.Builder r, ServerSettings settings, ApiContext ctx) {
        if (settings.accessLog() != null) {
            r.addFilter(new AccessLogFilter(settings.accessLog()));
        }
        if (!settings.allowedOrigins().isEmpty()) {
            r.addFilter(new CorsFilter(settings.allowedOrigins()));
        }
        r.addFilter(new AuthFilter(settings, ctx.json()));
    }

    /** Kubernetes-style probes and the Prometheus scrape endpoint. */
    private static void operations(HttpRouting.Builder r, ServerSettings settings, ApiContext ctx) {
        r.get("/ready", guard(ctx, (req, res) -> {
            String state = ctx.isDraining() ? "stopping" : ctx.isReady() ? "ready" : "loading";
            Http.json(res, ctx.json(), state.equals("ready") ? 200 : 503, java.util.Map.of("status", state));
        }));
        if (settings.metrics() != null) {
            r.get("/metrics", guard(ctx, (req, res) -> {
                res.header(io.helidon.http.HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                res.send(settings.metrics().scrape());
            }));
        }
    }

    private static void routes(HttpRouting.Builder r, ApiContext ctx) {
        var chat = new ChatCompletionsEndpoint(ctx);
        var completions = new CompletionsEndpoint(ctx);
        var llama = new LlamaCppEndpoints(ctx);
        var tokens = new TokenizeEndpoints(ctx);
        var models = new ModelsEndpoint(ctx);
        r.post("/v1/chat/completions", guard(ctx, chat::handle))
                .post("/v1/completions", guard(ctx, completions::handle))
                .post("/beta/completions", guard(ctx, completions::handle))
                .post("/infill", guard(ctx, llama::infill))
                .post("/completion", guard(ctx, llama::completion))
                .post("/tokenize", guard(ctx, tokens::tokenize))
                .post("/detokenize", guard(ctx, tokens::detokenize))
                .get("/v1/models", guard(ctx, models::list))
                .get("/v1/models/{+model}", guard(ctx, models::retrieve))
                .get("/health", guard(ctx, models::health))
                .any(guard(ctx, ApiServer::unknownRoute));
    }

    public int port() {
        return server.port();
    }

    public ApiContext context() {
        return ctx;
    }

    /** Waits until no request is being handled (e.g. aborted streams wrote their last chunk), at most `timeout`. */
    public void awaitIdle(java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        server.stop();
    }

    private static void unknownRoute(ServerRequest req, ServerResponse res) {
        throw new ApiException(404, "invalid_request_error", "Invalid URL (" + req.prologue().method().text() + " "
                + req.path().path() + ")", null, null, null);
    }

    /** A route body that may throw; the guard turns whatever it throws into an error reply. */
    @FunctionalInterface
    interface Route {
        void handle(ServerRequest req, ServerResponse res) throws Exception;
    }

    static Handler guard(ApiContext ctx, Route route) {
        return (req, res) -> {
            try {
                route.handle(req, res);
            } catch (ApiException e) {
                reply(ctx, res, e);
            } catch (EngineException e) {
                reply(ctx, res, EngineErrors.toApi(e));
            } catch (IllegalArgumentException e) {
                // The engine's records reject values we did not check first: still the client's input.
                reply(ctx, res, ApiException.invalid(null, e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                reply(ctx, res, new ApiException(503, "service_unavailable", "The server is shutting down.", null,
                        null, null));
            } catch (Exception | StackOverflowError e) {
                LOG.log(Level.SEVERE, "internal error on " + req.path().path(), e);
                reply(ctx, res, new ApiException(500, "internal_error", "Internal server error: " + e, null, null,
                        null));
            }
        };
    }

    private static void reply(ApiContext ctx, ServerResponse res, ApiException e) {
        if (res.isSent()) {
            LOG.warning("error after the reply started: " + e.getMessage());
            return;
        }
        Http.error(res, ctx.json(), e);
    }
}

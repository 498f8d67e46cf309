package io.latentserve.server.api;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.latentserve.server.engine.Engine;
import io.latentserve.server.engine.EngineException;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP server: OpenAI-compatible routes, llama.cpp's infill routes and vLLM's utilities over one engine.
 * Every route is guarded so that any failure, bad input or bug, is answered in OpenAI's error shape.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ApiServer.class.getName());
    /** Generous for long prompts, small enough that a runaway upload cannot exhaust the heap. */
    private static final long MAX_BODY_BYTES = 64L << 20;

    private final WebServer server;
    private final ApiContext ctx;

    private ApiServer(WebServer server, ApiContext ctx) {
        this.server = server;
        this.ctx = ctx;
    }

    /** Starts listening; port 0 picks a free port (see {@link #port()}). */
    public static ApiServer start(String host, int port, Engine engine, ServedModel model) {
        ApiContext ctx = new ApiContext(engine, model, new Json());
        WebServer server = WebServer.builder()
                .host(host)
                .port(port)
                .shutdownHook(false) // the command shuts the engine and the server down in order itself
                .maxPayloadSize(MAX_BODY_BYTES)
                .routing(r -> routes(r, ctx))
                .build()
                .start();
        if (!server.isRunning()) {
            // Helidon logs the cause (e.g. the port is taken) and returns a stopped server rather than throwing.
            throw new IllegalStateException("cannot listen on " + host + ":" + port
                    + " (is the port in use? see the log above)");
        }
        return new ApiServer(server, ctx);
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

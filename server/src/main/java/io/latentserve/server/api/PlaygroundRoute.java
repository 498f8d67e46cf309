package io.latentserve.server.api;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The playground page at {@code /}: plain HTML, CSS and JavaScript from the classpath ({@code /playground/}), which
 * call the server's own OpenAI-compatible API from the browser. Only the listed files are served.
 */
public final class PlaygroundRoute {
    static final String RESOURCES = "/playground/";
    private static final Map<String, String> FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8",
            "style.css", "text/css; charset=utf-8");

    private final Map<String, byte[]> cache = new ConcurrentHashMap<>();

    private PlaygroundRoute() {
    }

    /** GET / (the page) and GET /playground/{file} (its assets). */
    public static void register(HttpRouting.Builder routing, ApiContext ctx) {
        PlaygroundRoute route = new PlaygroundRoute();
        routing.get("/", ApiServer.guard(ctx, (req, res) -> route.send(res, "index.html")))
                .get("/playground/{file}", ApiServer.guard(ctx, route::asset));
    }

    private void asset(ServerRequest req, ServerResponse res) {
        String file = req.path().pathParameters().get("file");
        if (!FILES.containsKey(file)) {
            throw new ApiException(404, "invalid_request_error", "No playground file '" + file + "'", null, null, null);
        }
        send(res, file);
    }

    private void send(ServerResponse res, String file) {
        byte[] body = cache.computeIfAbsent(file, PlaygroundRoute::read);
        res.header(HeaderNames.CONTENT_TYPE, FILES.get(file));
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        res.send(body);
    }

    static byte[] read(String file) {
        try (InputStream in = PlaygroundRoute.class.getResourceAsStream(RESOURCES + file)) {
            if (in == null) {
                throw new IllegalStateException("the playground's " + file + " is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

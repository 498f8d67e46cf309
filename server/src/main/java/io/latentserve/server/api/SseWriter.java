package io.latentserve.server.api;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events as OpenAI writes them: {@code data: <json>\n\n} per event, flushed at once so each
 * token reaches the client as soon as it exists. A failed write means the client went away.
 */
final class SseWriter implements AutoCloseable {
    /** Writing failed: the client closed the connection. */
    static final class ClientGone extends RuntimeException {
        ClientGone(Throwable cause) {
            super("the client closed the connection", cause);
        }
    }

    private final Json json;
    private final OutputStream out;

    SseWriter(ServerResponse res, Json json) {
        this.json = json;
        res.status(200);
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        this.out = res.outputStream();
    }

    void data(Object event) {
        write("data: " + json.writeString(event) + "\n\n");
    }

    void done() {
        write("data: [DONE]\n\n");
    }

    private void write(String s) {
        try {
            out.write(s.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException | RuntimeException e) {
            // Helidon reports a closed socket as IOException, UncheckedIOException or its own runtime exceptions.
            throw new ClientGone(e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException | RuntimeException e) {
            // the client is gone already; nothing left to tell it
        }
    }
}

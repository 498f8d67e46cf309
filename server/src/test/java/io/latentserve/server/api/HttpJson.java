package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A plain java.net.http client speaking JSON and server-sent events to the test server. */
final class HttpJson {
    static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    HttpJson(String base) {
        this.base = base;
    }

    String base() {
        return base;
    }

    static ObjectNode obj() {
        return JSON.createObjectNode();
    }

    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    /** A reply: status, headers and body text; for an event stream also its events. */
    record Reply(int status, HttpHeaders headers, String text) {
        JsonNode json() {
            return parse(text);
        }

        String contentType() {
            return headers.firstValue("content-type").orElse("");
        }

        /** The payloads of the data: lines, in order, [DONE] included. */
        List<String> data() {
            List<String> out = new ArrayList<>();
            for (String line : text.split("\n", -1)) {
                if (line.startsWith("data: ")) {
                    out.add(line.substring(6));
                }
            }
            return out;
        }

        /** The JSON events of a stream (everything but [DONE]). */
        List<JsonNode> events() {
            List<JsonNode> out = new ArrayList<>();
            for (String d : data()) {
                if (!d.equals("[DONE]")) {
                    out.add(parse(d));
                }
            }
            return out;
        }
    }

    Reply post(String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(300))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    Reply post(String path, JsonNode body) {
        return post(path, body.toString());
    }

    Reply get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).GET().build());
    }

    private Reply send(HttpRequest req) {
        try {
            HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.headers(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}

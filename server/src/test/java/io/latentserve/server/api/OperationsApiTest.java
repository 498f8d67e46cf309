package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.latentserve.server.ServeCommand;
import io.latentserve.server.cli.Args;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Operations: readiness during start-up, /metrics, API keys, CORS, body and max_tokens limits, access log, shutdown. */
class OperationsApiTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return CLIENT.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder at(int port, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    }

    private static String chat(int maxTokens) {
        return "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":" + maxTokens + ",\"temperature\":0}";
    }

    @Test
    void readyIs503WhileLoadingAndHealthAnswersFromTheStart() {
        AtomicReference<List<Integer>> duringLoad = new AtomicReference<>();
        var out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        var running = ServeCommand.start(new String[]{"serve", "--model", TestServer.demoModel().toString(),
                "--device", "cpu", "--port", "0", "--kv-cache-memory", "16MiB", "--block-size", "16",
                "--max-model-len", "1024"}, out, out, port -> {
                    try {
                        List<Integer> codes = new ArrayList<>();
                        codes.add(send(at(port, "/health")).statusCode());
                        HttpResponse<String> ready = send(at(port, "/ready"));
                        codes.add(ready.statusCode());
                        assertTrue(ready.body().contains("loading"), ready.body());
                        HttpResponse<String> early = send(at(port, "/v1/chat/completions")
                                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(chat(2))));
                        codes.add(early.statusCode());
                        assertTrue(HttpJson.parse(early.body()).get("error").get("message").asText().contains("loading"));
                        duringLoad.set(codes);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
        try (running) {
            assertEquals(List.of(200, 503, 503), duringLoad.get());
            HttpJson http = new HttpJson("http://127.0.0.1:" + running.port());
            assertEquals(200, http.get("/ready").status());
        }
    }

    @Test
    void metricsCountWhatWasServed() throws Exception {
        try (TestServer server = TestServer.demo()) {
            assertEquals(200, server.http.post("/v1/chat/completions", chat(3)).status());
            server.awaitIdle();
            HttpJson.Reply metrics = server.http.get("/metrics");
            assertEquals(200, metrics.status());
            assertTrue(metrics.contentType().startsWith("text/plain"), metrics.contentType());
            assertTrue(metrics.text().contains("latentserve_request_success_total{finished_reason=\"length\",model_name=\"demo\"} 1.0"),
                    metrics.text());
            assertTrue(metrics.text().contains("latentserve_generation_tokens_total{model_name=\"demo\"} 3.0"));
            assertTrue(metrics.text().contains("latentserve_kv_cache_capacity_tokens{model_name=\"demo\"}"));
        }
    }

    @Test
    void apiKeysGuardTheApiButNotTheProbes() throws Exception {
        try (TestServer server = TestServer.demo("--api-key", "sk-secret", "--auth-metrics")) {
            int port = server.running.port();
            HttpResponse<String> none = send(at(port, "/v1/models"));
            assertEquals(401, none.statusCode());
            JsonNode error = HttpJson.parse(none.body()).get("error");
            assertEquals("invalid_api_key", error.get("code").asText());
            assertEquals("invalid_request_error", error.get("type").asText());
            assertEquals(401, send(at(port, "/v1/models").header("Authorization", "Bearer sk-wrong")).statusCode());
            assertEquals(401, send(at(port, "/tokenize").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"x\"}"))).statusCode());
            assertEquals(200, send(at(port, "/v1/models").header("Authorization", "Bearer sk-secret")).statusCode());
            assertEquals(200, send(at(port, "/health")).statusCode(), "probes stay open");
            assertEquals(200, send(at(port, "/ready")).statusCode());
            assertEquals(401, send(at(port, "/metrics")).statusCode(), "--auth-metrics guards the scrape");
            HttpResponse<String> metrics = send(at(port, "/metrics").header("Authorization", "Bearer sk-secret"));
            assertTrue(metrics.body().contains(
                    "latentserve_requests_rejected_total{model_name=\"demo\",reason=\"unauthorized\"} 4.0"), metrics.body());
        }
    }

    @Test
    void corsAnswersPreflightsForAllowedOriginsOnly() throws Exception {
        try (TestServer server = TestServer.demo("--allowed-origins", "http://app.example")) {
            int port = server.running.port();
            HttpResponse<String> preflight = send(at(port, "/v1/chat/completions").header("Origin", "http://app.example")
                    .header("Access-Control-Request-Method", "POST").method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
            assertEquals(204, preflight.statusCode());
            assertEquals("http://app.example", preflight.headers().firstValue("access-control-allow-origin").orElse(""));
            assertTrue(preflight.headers().firstValue("access-control-allow-headers").orElse("").contains("Authorization"));
            HttpResponse<String> allowed = send(at(port, "/v1/models").header("Origin", "http://app.example"));
            assertEquals("http://app.example", allowed.headers().firstValue("access-control-allow-origin").orElse(""));
            HttpResponse<String> other = send(at(port, "/v1/models").header("Origin", "http://evil.example"));
            assertFalse(other.headers().firstValue("access-control-allow-origin").isPresent());
        }
    }

    @Test
    void bodySizeAndMaxTokensAreCapped() throws Exception {
        try (TestServer server = TestServer.demo("--max-body-bytes", "2000", "--max-tokens-cap", "5")) {
            int port = server.running.port();
            String big = "{\"prompt\":\"" + "a".repeat(5000) + "\",\"max_tokens\":1}";
            HttpResponse<String> tooBig = send(at(port, "/v1/completions").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(big)));
            assertEquals(413, tooBig.statusCode());
            assertEquals("request_too_large", HttpJson.parse(tooBig.body()).get("error").get("code").asText(), tooBig.body());
            HttpJson.Reply overCap = server.http.post("/v1/chat/completions", chat(6));
            assertEquals(400, overCap.status());
            assertEquals("max_tokens", overCap.json().get("error").get("param").asText());
            HttpJson.Reply capped = server.http.post("/v1/completions", "{\"prompt\":\"def f(\",\"temperature\":0,\"ignore_eos\":true}");
            assertEquals(200, capped.status(), capped.text());
            assertEquals(5, capped.json().get("usage").get("completion_tokens").asInt());
            assertEquals(200, server.http.post("/v1/chat/completions", chat(2)).status(), "still serving");
        }
    }

    @Test
    void deviceSamplingIsSwitchedOnOrOff() {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        var out = new PrintStream(log, true, StandardCharsets.UTF_8);
        var bad = assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[]{"serve",
                "--device-sampling", "maybe"}, out, out));
        assertTrue(bad.getMessage().contains("on or off"), bad.getMessage());
        try (var running = ServeCommand.start(new String[]{"serve", "--model", TestServer.demoModel().toString(),
                "--device", "cpu", "--port", "0", "--kv-cache-memory", "16MiB", "--block-size", "16",
                "--max-model-len", "1024", "--device-sampling", "on"}, out, out)) {
            assertTrue(running.engine().config().deviceSampling());
            assertFalse(running.engine().samplesOnDevice(), "the CPU backend samples on the host whatever the switch");
        }
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("sampling on the host"));
    }

    @Test
    void accessLogHasOneLinePerRequest() {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        var out = new PrintStream(log, true, StandardCharsets.UTF_8);
        try (var running = ServeCommand.start(new String[]{"serve", "--model", TestServer.demoModel().toString(),
                "--device", "cpu", "--port", "0", "--kv-cache-memory", "16MiB", "--block-size", "16",
                "--max-model-len", "1024", "--access-log"}, out, out)) {
            HttpJson http = new HttpJson("http://127.0.0.1:" + running.port());
            http.get("/health");
            http.post("/v1/chat/completions", chat(1));
        }
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("\"GET /health HTTP/1.1\" 200"), text);
        assertTrue(text.contains("\"POST /v1/chat/completions HTTP/1.1\" 200"), text);
        assertFalse(text.contains("\"hi\""), "request bodies are not logged");
    }

    @Test
    void shutdownLetsStreamsEndWithAbortAndRefusesNewRequests() throws Exception {
        TestServer server = TestServer.demo("--shutdown-timeout", "0");
        int port = server.running.port();
        String stream = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1500,\"stream\":true,"
                + "\"ignore_eos\":true}";
        try (RawSse sse = new RawSse(port, "/v1/chat/completions", stream)) {
            sse.awaitEvent(3);
            Thread closer = Thread.ofVirtual().start(server::close);
            List<String> rest = new ArrayList<>();
            BufferedReader reader = sse.reader();
            for (String line; (line = reader.readLine()) != null; ) {
                if (line.startsWith("data: ")) {
                    rest.add(line.substring(6));
                }
                if (line.equals("data: [DONE]")) {
                    break;
                }
            }
            closer.join(30_000);
            assertEquals("[DONE]", rest.getLast(), "the stream was closed properly");
            JsonNode last = HttpJson.parse(rest.get(rest.size() - 2));
            assertEquals("abort", last.get("choices").get(0).get("finish_reason").asText());
        }
    }

    /** A real SIGTERM to a real server process: the stream still ends properly and the process exits. */
    @Test
    void sigtermShutsTheServerDownGracefully() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "io.latentserve.server.Main", "serve", "--model",
                TestServer.demoModel().toString(), "--device", "cpu", "--port", "0", "--kv-cache-memory", "16MiB",
                "--block-size", "16", "--max-model-len", "2048", "--shutdown-timeout", "1")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            int port = -1;
            for (String line; port < 0 && (line = out.readLine()) != null; ) {
                var m = java.util.regex.Pattern.compile("ready at http://127.0.0.1:(\\d+)").matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                }
            }
            assertTrue(port > 0, "the server announced its port");
            try (RawSse sse = new RawSse(port, "/v1/completions",
                    "{\"prompt\":\"x\",\"max_tokens\":1900,\"stream\":true,\"ignore_eos\":true}")) {
                sse.awaitEvent(2);
                p.destroy(); // SIGTERM
                String lastData = null;
                String finish = null;
                for (String line; (line = sse.reader().readLine()) != null; ) {
                    if (line.startsWith("data: {")) {
                        JsonNode f = HttpJson.parse(line.substring(6)).get("choices").get(0).get("finish_reason");
                        finish = f.isNull() ? finish : f.asText();
                    }
                    if (line.startsWith("data: ")) {
                        lastData = line;
                    }
                }
                assertEquals("data: [DONE]", lastData);
                assertTrue("abort".equals(finish) || "length".equals(finish), "finish reason " + finish);
            }
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the process exited");
        } finally {
            p.destroyForcibly();
        }
    }
}

package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.latentserve.server.api.HttpJson.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /v1/models, /tokenize, /detokenize, /health and the start-up report. */
class UtilityEndpointsTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.demo();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void startupReportsModelDeviceCapacityAndTheRealPort() {
        String log = server.startupLog;
        assertTrue(log.contains("model demo"), log);
        assertTrue(log.contains("device cpu"), log);
        assertTrue(log.contains("dtype bfloat16"), log);
        assertTrue(log.contains("tokens ("), log);
        assertTrue(log.contains("http://127.0.0.1:" + server.running.port()), log);
        assertTrue(server.running.port() > 0);
    }

    @Test
    void modelsListsTheServedModel() {
        JsonNode j = server.http.get("/v1/models").json();
        assertEquals("list", j.get("object").asText());
        JsonNode m = j.at("/data/0");
        assertEquals("demo", m.get("id").asText());
        assertEquals("model", m.get("object").asText());
        assertEquals("latentserve", m.get("owned_by").asText());
        assertEquals(2048, m.get("max_model_len").asInt());
        assertEquals(m, server.http.get("/v1/models/demo").json());
        for (String other : new String[] {"other", "deepseek-ai/DeepSeek-V2"}) {
            var missing = server.http.get("/v1/models/" + other);
            assertEquals(404, missing.status());
            assertEquals("model_not_found", missing.json().at("/error/code").asText());
        }
    }

    @Test
    void aTakenPortIsAClearError() {
        var e = assertThrows(IllegalStateException.class,
                () -> TestServer.demo("--port", String.valueOf(server.running.port())));
        assertTrue(e.getMessage().contains("cannot listen on 127.0.0.1:" + server.running.port()), e.getMessage());
    }

    @Test
    void tokenizeAndDetokenizeRoundTrip() {
        JsonNode t = server.http.post("/tokenize", obj().put("prompt", "héllo")).json();
        assertEquals(server.running.model().tokenizer().bosId(), t.at("/tokens/0").asInt(), "BOS as for completions");
        assertEquals(t.get("tokens").size(), t.get("count").asInt());
        assertEquals(2048, t.get("max_model_len").asInt());
        assertEquals(1 + server.running.model().tokenizer().encode("héllo", false).length, t.get("count").asInt());
        JsonNode raw = server.http.post("/tokenize", obj().put("prompt", "héllo").put("add_special_tokens", false))
                .json();
        assertEquals(t.get("count").asInt() - 1, raw.get("count").asInt());
        ObjectNode detok = obj();
        detok.set("tokens", raw.get("tokens"));
        assertEquals("héllo", server.http.post("/detokenize", detok).json().get("prompt").asText());

        ObjectNode chat = obj();
        chat.putArray("messages").addObject().put("role", "user").put("content", "Hi");
        JsonNode c = server.http.post("/tokenize", chat).json();
        String text = server.http.post("/detokenize", obj().set("tokens", c.get("tokens"))).json().get("prompt").asText();
        assertEquals("<｜begin▁of▁sentence｜>User: Hi\n\nAssistant:", text, "the chat template, BOS once");
    }

    @Test
    void healthIsAnEmptyObject() {
        var r = server.http.get("/health");
        assertEquals(200, r.status());
        assertEquals("{}", r.text());
    }
}

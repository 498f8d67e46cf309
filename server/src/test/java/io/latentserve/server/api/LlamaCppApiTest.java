package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latentserve.model.tokenizer.FimPrompt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.latentserve.server.api.HttpJson.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** llama.cpp's /infill and /completion: request names, reply shape, and the content/stop stream. */
class LlamaCppApiTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.demo();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static ObjectNode infill() {
        ObjectNode body = obj().put("input_prefix", "def add(a, b):\n").put("input_suffix", "\n    return c\n")
                .put("n_predict", 5).put("temperature", 0).put("ignore_eos", true);
        body.putArray("input_extra").addObject().put("filename", "util.py").put("text", "import math\n");
        return body;
    }

    @Test
    void infillAnswersInLlamaCppsShape() {
        var r = server.http.post("/infill", infill());
        assertEquals(200, r.status(), r.text());
        JsonNode j = r.json();
        assertTrue(j.get("content").isTextual());
        assertTrue(j.get("stop").asBoolean());
        assertEquals(5, j.get("tokens_predicted").asInt());
        assertEquals("limit", j.get("stop_type").asText());
        assertEquals("demo", j.get("model").asText());
        // The extra file is context in front of the prefix, inside one FIM prompt.
        String expected = FimPrompt.build("#util.py\nimport math\ndef add(a, b):\n", "\n    return c\n");
        int promptTokens = server.http.post("/tokenize", obj().put("prompt", expected)).json().get("count").asInt();
        assertEquals(promptTokens, j.get("tokens_evaluated").asInt());
        assertTrue(j.at("/timings/predicted_n").asInt() == 5);
    }

    @Test
    void infillStreamsContentLinesAndEndsWithTheSummary() {
        JsonNode whole = server.http.post("/infill", infill()).json();
        var r = server.http.post("/infill", infill().put("stream", true));
        assertTrue(r.contentType().startsWith("text/event-stream"));
        assertFalse(r.text().contains("[DONE]"), "llama.cpp streams end without [DONE]");
        List<JsonNode> events = r.events();
        StringBuilder text = new StringBuilder();
        for (JsonNode e : events.subList(0, events.size() - 1)) {
            assertFalse(e.get("stop").asBoolean());
            text.append(e.get("content").asText());
        }
        JsonNode last = events.getLast();
        assertTrue(last.get("stop").asBoolean());
        assertEquals(5, last.get("tokens_predicted").asInt());
        assertEquals(whole.get("content").asText(), text + last.get("content").asText());
    }

    @Test
    void completionTakesTextOrIds() {
        ObjectNode body = obj().put("prompt", "Hello llama").put("n_predict", 4).put("temperature", 0)
                .put("ignore_eos", true);
        JsonNode text = server.http.post("/completion", body).json();
        assertEquals(4, text.get("tokens_predicted").asInt());
        ObjectNode byIds = obj().put("n_predict", 4).put("temperature", 0).put("ignore_eos", true);
        server.http.post("/tokenize", obj().put("prompt", "Hello llama")).json().get("tokens")
                .forEach(byIds.putArray("prompt")::add);
        assertEquals(text.get("content"), server.http.post("/completion", byIds).json().get("content"));
        var streamed = server.http.post("/completion", body.put("stream", true)).events();
        StringBuilder sb = new StringBuilder();
        streamed.forEach(e -> sb.append(e.get("content").asText()));
        assertEquals(text.get("content").asText(), sb.toString());
        assertTrue(streamed.getLast().get("stop").asBoolean());
    }

    @Test
    void llamaCppErrorsNameItsFields() {
        var r = server.http.post("/completion", obj().put("prompt", "x").put("n_predict", 0));
        assertEquals(400, r.status());
        assertEquals("n_predict", r.json().at("/error/param").asText());
        var p = server.http.post("/infill", infill().put("repeat_penalty", -1));
        assertEquals(400, p.status());
        assertEquals("repeat_penalty", p.json().at("/error/param").asText());
    }
}

package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latentserve.model.TestData;
import io.latentserve.model.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.latentserve.server.api.HttpJson.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reference implementation's greedy continuations and logits (shared/testdata/tiny-deepseek-v2-lite), reached
 * through the HTTP API: token ids in, token ids and top-5 logprobs out.
 */
class GoldenApiTest {
    private static final double TOLERANCE = 1e-3;
    private static TestServer server;
    private static JsonNode golden;

    @BeforeAll
    static void start() throws IOException {
        Path dir = TestData.require("tiny-deepseek-v2-lite");
        golden = HttpJson.JSON.readTree(dir.resolve("golden.json").toFile());
        server = TestServer.start(dir);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void completionsFromTokenIdsMatchTheReference() {
        Tokenizer tokenizer = server.running.model().tokenizer();
        for (JsonNode p : golden.get("prompts")) {
            int steps = p.get("generated_ids").size();
            ObjectNode body = obj().put("max_tokens", steps).put("temperature", 0).put("logprobs", 5)
                    .put("ignore_eos", true).put("return_token_ids", true);
            body.set("prompt", p.get("prompt_ids"));
            var r = server.http.post("/v1/completions", body);
            assertEquals(200, r.status(), r.text());
            JsonNode choice = r.json().at("/choices/0");
            String name = p.get("name").asText();
            assertEquals(p.get("generated_ids"), choice.get("token_ids"), name);
            assertEquals(p.get("prompt_ids").size(), r.json().at("/usage/prompt_tokens").asInt(), name + ": no second BOS");
            JsonNode lp = choice.get("logprobs");
            for (int s = 0; s < steps; s++) {
                JsonNode step = p.get("steps").get(s);
                double logZ = step.get("logsumexp").asDouble();
                Map<String, Double> expected = new LinkedHashMap<>();
                for (int k = 0; k < 5; k++) {
                    JsonNode entry = step.get("top10").get(k);
                    expected.putIfAbsent(tokenizer.tokenText(entry.get(0).asInt()), entry.get(1).asDouble() - logZ);
                }
                JsonNode actual = lp.get("top_logprobs").get(s);
                assertEquals(new ArrayList<>(expected.keySet()), names(actual), name + " step " + s);
                for (var e : expected.entrySet()) {
                    assertEquals(e.getValue(), actual.get(e.getKey()).asDouble(), TOLERANCE, name + " step " + s);
                }
                assertEquals(expected.values().iterator().next(), lp.get("token_logprobs").get(s).asDouble(), TOLERANCE);
            }
        }
    }

    private static List<String> names(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void chatPromptRendersLikeTheReferenceAndContinuesAlike() {
        JsonNode p = golden.get("prompts").get(3);
        ObjectNode body = obj().put("max_tokens", 24).put("temperature", 0).put("ignore_eos", true)
                .put("return_token_ids", true);
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", "You are a helpful assistant.");
        messages.addObject().put("role", "user").put("content", "What is the capital of France?");
        messages.addObject().put("role", "assistant").put("content", "The capital of France is Paris.");
        messages.addObject().put("role", "user").put("content", "And what is the capital of Germany? Answer in one word.");
        JsonNode tokens = server.http.post("/tokenize", obj().set("messages", messages)).json().get("tokens");
        assertEquals(p.get("prompt_ids"), tokens);
        JsonNode choice = server.http.post("/v1/chat/completions", body).json().at("/choices/0");
        assertEquals(p.get("generated_ids"), choice.get("token_ids"));
    }

    @Test
    void aVocabularyWithoutFimTokensRefusesFillInTheMiddle() {
        var suffix = server.http.post("/v1/completions", obj().put("prompt", "def f(").put("suffix", ")"));
        JsonNode e = ErrorsApiTest.assertError(suffix, 400, "suffix");
        assertTrue(e.get("message").asText().contains("does not support fill-in-the-middle"), e.toString());
        ErrorsApiTest.assertError(server.http.post("/infill", obj().put("input_prefix", "a").put("input_suffix", "b")),
                400, "input_prefix");
    }
}

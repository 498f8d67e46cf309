package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.latentserve.server.api.HttpJson.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /v1/chat/completions over raw HTTP: response shape, SSE framing, n, usage, logprobs, stop strings, seeds. */
class ChatCompletionsApiTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.demo();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static ObjectNode chat(String text, int maxTokens) {
        ObjectNode body = obj().put("model", server.model()).put("max_tokens", maxTokens).put("temperature", 0);
        body.putArray("messages").addObject().put("role", "user").put("content", text);
        return body;
    }

    @Test
    void completionHasOpenAisShapeAndUsage() {
        var r = server.http.post("/v1/chat/completions", chat("Hello there", 6));
        assertEquals(200, r.status(), r.text());
        assertTrue(r.contentType().startsWith("application/json"));
        JsonNode j = r.json();
        assertTrue(j.get("id").asText().startsWith("chatcmpl-"));
        assertEquals("chat.completion", j.get("object").asText());
        assertEquals("demo", j.get("model").asText());
        JsonNode choice = j.get("choices").get(0);
        assertEquals(0, choice.get("index").asInt());
        assertEquals("assistant", choice.at("/message/role").asText());
        assertTrue(choice.get("message").has("content"));
        assertTrue(choice.get("logprobs").isNull());
        JsonNode usage = j.get("usage");
        int prompt = server.http.post("/tokenize", obj().set("messages", chat("Hello there", 1).get("messages")))
                .json().get("count").asInt();
        assertEquals(prompt, usage.get("prompt_tokens").asInt());
        int completion = usage.get("completion_tokens").asInt();
        assertTrue(completion >= 1 && completion <= 6);
        assertEquals(choice.get("finish_reason").asText().equals("length"), completion == 6);
        assertEquals(prompt + completion, usage.get("total_tokens").asInt());
        int cached = usage.at("/prompt_tokens_details/cached_tokens").asInt();
        assertEquals(cached, usage.get("prompt_cache_hit_tokens").asInt());
        assertEquals(prompt - cached, usage.get("prompt_cache_miss_tokens").asInt());
    }

    @Test
    void streamIsFramedAsOpenAiSendsIt() {
        ObjectNode body = chat("Stream me", 5).put("stream", true).put("ignore_eos", true);
        var r = server.http.post("/v1/chat/completions", body);
        assertEquals(200, r.status());
        assertTrue(r.contentType().startsWith("text/event-stream"), r.contentType());
        // Every event is exactly "data: <payload>\n\n", the last one [DONE].
        assertTrue(r.text().startsWith("data: {"));
        assertTrue(r.text().endsWith("data: [DONE]\n\n"), r.text());
        for (String block : r.text().split("\n\n")) {
            assertTrue(block.startsWith("data: ") && !block.substring(6).contains("\n"), block);
        }
        List<JsonNode> events = r.events();
        String id = events.getFirst().get("id").asText();
        for (JsonNode e : events) {
            assertEquals("chat.completion.chunk", e.get("object").asText());
            assertEquals(id, e.get("id").asText());
            assertFalse(e.has("usage"), "no usage without stream_options.include_usage");
        }
        JsonNode first = events.getFirst().at("/choices/0");
        assertEquals("assistant", first.at("/delta/role").asText());
        assertEquals("", first.at("/delta/content").asText());
        JsonNode last = events.getLast().at("/choices/0");
        assertEquals("length", last.get("finish_reason").asText());
        assertEquals(0, last.get("delta").size(), "the finishing chunk has an empty delta");
        StringBuilder streamed = new StringBuilder();
        for (JsonNode e : events.subList(1, events.size() - 1)) {
            assertTrue(e.at("/choices/0/finish_reason").isNull());
            streamed.append(e.at("/choices/0/delta/content").asText());
        }
        var whole = server.http.post("/v1/chat/completions", chat("Stream me", 5).put("ignore_eos", true)).json();
        assertEquals(whole.at("/choices/0/message/content").asText(), streamed.toString(),
                "greedy streamed text equals the non-streamed text");
    }

    @Test
    void includeUsageAddsAFinalChunkWithEmptyChoices() {
        ObjectNode body = chat("Count me", 4).put("stream", true).put("ignore_eos", true);
        body.putObject("stream_options").put("include_usage", true);
        List<JsonNode> events = server.http.post("/v1/chat/completions", body).events();
        JsonNode last = events.getLast();
        assertEquals(0, last.get("choices").size());
        for (JsonNode e : events.subList(0, events.size() - 1)) {
            assertTrue(e.has("usage") && e.get("usage").isNull(), "as OpenAI: \"usage\": null until the last chunk");
        }
        assertEquals(4, last.at("/usage/completion_tokens").asInt());
        assertTrue(last.at("/usage/prompt_tokens").asInt() > 0);
        assertEquals("length", events.get(events.size() - 2).at("/choices/0/finish_reason").asText());
    }

    @Test
    void nChoicesStreamInterleavedAndCountOnce() {
        ObjectNode body = chat("Several", 4).put("n", 3).put("temperature", 1.0).put("seed", 7)
                .put("stream", true).put("ignore_eos", true);
        body.putObject("stream_options").put("include_usage", true);
        List<JsonNode> events = server.http.post("/v1/chat/completions", body).events();
        Map<Integer, Integer> roles = new HashMap<>();
        Map<Integer, String> finish = new HashMap<>();
        for (JsonNode e : events) {
            for (JsonNode c : e.get("choices")) {
                int i = c.get("index").asInt();
                if (c.at("/delta/role").isTextual()) {
                    roles.merge(i, 1, Integer::sum);
                }
                if (!c.get("finish_reason").isNull()) {
                    finish.put(i, c.get("finish_reason").asText());
                }
            }
        }
        assertEquals(Map.of(0, 1, 1, 1, 2, 1), roles);
        assertEquals(Map.of(0, "length", 1, "length", 2, "length"), finish);
        JsonNode usage = events.getLast().get("usage");
        assertEquals(12, usage.get("completion_tokens").asInt());
        int prompt = usage.get("prompt_tokens").asInt();
        assertTrue(prompt > 0 && prompt < 40, "the prompt counts once, not n times: " + prompt);

        JsonNode whole = server.http.post("/v1/chat/completions", chat("Several", 4).put("n", 2)
                .put("ignore_eos", true)).json();
        assertEquals(2, whole.get("choices").size());
        assertEquals(1, whole.at("/choices/1/index").asInt());
        assertEquals(8, whole.at("/usage/completion_tokens").asInt());
    }

    @Test
    void logprobsCarryTokensBytesAndAlternatives() {
        ObjectNode body = chat("Logprobs", 3).put("logprobs", true).put("top_logprobs", 4).put("ignore_eos", true);
        JsonNode content = server.http.post("/v1/chat/completions", body).json().at("/choices/0/logprobs/content");
        assertEquals(3, content.size());
        for (JsonNode t : content) {
            assertTrue(t.get("logprob").asDouble() <= 0);
            assertTrue(t.get("bytes").isArray());
            assertEquals(4, t.get("top_logprobs").size());
            // Greedy: the chosen token is the most likely one.
            assertEquals(t.get("logprob").asDouble(), t.at("/top_logprobs/0/logprob").asDouble(), 1e-6);
            assertEquals(t.get("token").asText(), t.at("/top_logprobs/0/token").asText());
            double previous = 0;
            for (JsonNode alt : t.get("top_logprobs")) {
                assertTrue(alt.get("logprob").asDouble() <= previous + 1e-9);
                previous = alt.get("logprob").asDouble();
            }
        }
        ObjectNode streamed = chat("Logprobs", 3).put("logprobs", true).put("top_logprobs", 2)
                .put("ignore_eos", true).put("stream", true);
        int tokens = 0;
        for (JsonNode e : server.http.post("/v1/chat/completions", streamed).events()) {
            JsonNode lp = e.at("/choices/0/logprobs/content");
            if (lp.isArray()) {
                tokens += lp.size();
                lp.forEach(t -> assertEquals(2, t.get("top_logprobs").size()));
            }
        }
        assertEquals(3, tokens);
    }

    @Test
    void stopStringEndsGenerationAndIsNotEmitted() {
        ObjectNode probe = chat("Stop test", 24).put("ignore_eos", true);
        String full = server.http.post("/v1/chat/completions", probe).json().at("/choices/0/message/content").asText();
        // Take a piece of the greedy continuation as the stop string: generation must end right before it.
        String stop = null;
        for (int i = 2; i + 2 <= full.length() && stop == null; i++) {
            String s = full.substring(i, i + 2);
            if (!s.isBlank() && !s.contains("\uFFFD") && full.indexOf(s) == i) {
                stop = s;
            }
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(stop != null, "no usable stop string in '" + full + "'");
        ObjectNode body = chat("Stop test", 24).put("ignore_eos", true);
        body.putArray("stop").add("never-appears").add(stop);
        JsonNode choice = server.http.post("/v1/chat/completions", body).json().at("/choices/0");
        assertEquals("stop", choice.get("finish_reason").asText());
        assertEquals(full.substring(0, full.indexOf(stop)), choice.at("/message/content").asText());

        ObjectNode single = chat("Stop test", 24).put("ignore_eos", true).put("stop", stop).put("stream", true);
        StringBuilder streamed = new StringBuilder();
        List<String> reasons = new ArrayList<>();
        for (JsonNode e : server.http.post("/v1/chat/completions", single).events()) {
            streamed.append(e.at("/choices/0/delta/content").asText(""));
            if (!e.at("/choices/0/finish_reason").isNull()) {
                reasons.add(e.at("/choices/0/finish_reason").asText());
            }
        }
        assertEquals(full.substring(0, full.indexOf(stop)), streamed.toString());
        assertEquals(List.of("stop"), reasons);
    }

    @Test
    void seedsReproduceAndMaxCompletionTokensWins() {
        ObjectNode body = chat("Seeded", 8).put("temperature", 1.0).put("top_p", 0.9).put("top_k", 50)
                .put("min_p", 0.01).put("repetition_penalty", 1.1).put("presence_penalty", 0.5)
                .put("frequency_penalty", 0.2).put("seed", 1234).put("ignore_eos", true).put("user", "someone");
        body.putObject("logit_bias").put("65", 5);
        String a = server.http.post("/v1/chat/completions", body).json().at("/choices/0/message/content").asText();
        String b = server.http.post("/v1/chat/completions", body).json().at("/choices/0/message/content").asText();
        assertEquals(a, b);
        body.put("seed", 99);
        String c = server.http.post("/v1/chat/completions", body).json().at("/choices/0/message/content").asText();
        assertNotEquals(a, c, "another seed, another sample (8 tokens at temperature 1)");

        ObjectNode limited = chat("Limits", 50).put("max_completion_tokens", 3).put("ignore_eos", true);
        assertEquals(3, server.http.post("/v1/chat/completions", limited).json().at("/usage/completion_tokens").asInt());
    }

    @Test
    void returnTokenIdsGivesTheGeneratedIds() {
        ObjectNode body = chat("Ids", 5).put("return_token_ids", true).put("ignore_eos", true);
        JsonNode choice = server.http.post("/v1/chat/completions", body).json().at("/choices/0");
        assertEquals(5, choice.get("token_ids").size());
        List<Integer> ids = new ArrayList<>();
        choice.get("token_ids").forEach(t -> ids.add(t.asInt()));
        ObjectNode detok = obj();
        // The content leaves out special tokens (the demo's ids 256..260); /detokenize would show them.
        ids.stream().filter(id -> id < 256 || id > 260).forEach(detok.putArray("tokens")::add);
        var decoded = server.http.post("/detokenize", detok);
        assertEquals(200, decoded.status(), decoded.text());
        assertEquals(choice.at("/message/content").asText(), decoded.json().get("prompt").asText());
    }
}

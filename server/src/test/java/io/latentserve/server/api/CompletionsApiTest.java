package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latentserve.model.tokenizer.FimPrompt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.latentserve.server.api.HttpJson.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /v1/completions over raw HTTP: prompt forms, n, echo, logprobs, streaming, FIM and /beta/completions. */
class CompletionsApiTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.demo();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static ObjectNode completion(int maxTokens) {
        return obj().put("model", server.model()).put("max_tokens", maxTokens).put("temperature", 0)
                .put("ignore_eos", true);
    }

    private static List<Integer> tokenize(String text) {
        List<Integer> ids = new ArrayList<>();
        server.http.post("/tokenize", obj().put("prompt", text)).json().get("tokens").forEach(t -> ids.add(t.asInt()));
        return ids;
    }

    @Test
    void textPromptGetsBosAndOpenAisShape() {
        JsonNode j = server.http.post("/v1/completions", completion(5).put("prompt", "Once upon a time")).json();
        assertTrue(j.get("id").asText().startsWith("cmpl-"));
        assertEquals("text_completion", j.get("object").asText());
        JsonNode choice = j.at("/choices/0");
        assertEquals("length", choice.get("finish_reason").asText());
        assertTrue(choice.get("logprobs").isNull());
        List<Integer> ids = tokenize("Once upon a time");
        assertEquals(server.running.model().tokenizer().bosId(), ids.getFirst(), "the demo tokenizer asks for BOS");
        assertEquals(ids.size(), j.at("/usage/prompt_tokens").asInt());
        assertEquals(5, j.at("/usage/completion_tokens").asInt());
    }

    @Test
    void tokenIdPromptsMatchTextPromptsAndBosIsNotDoubled() {
        String text = "The same prompt";
        List<Integer> ids = tokenize(text);
        JsonNode byText = server.http.post("/v1/completions", completion(6).put("prompt", text)).json();
        ObjectNode withBos = completion(6);
        ids.forEach(withBos.putArray("prompt")::add);
        ObjectNode withoutBos = completion(6);
        ids.subList(1, ids.size()).forEach(withoutBos.putArray("prompt")::add);
        ObjectNode bosText = completion(6).put("prompt", "<｜begin▁of▁sentence｜>" + text);
        for (ObjectNode body : List.of(withBos, withoutBos, bosText)) {
            JsonNode j = server.http.post("/v1/completions", body).json();
            assertEquals(byText.at("/choices/0/text"), j.at("/choices/0/text"));
            assertEquals(ids.size(), j.at("/usage/prompt_tokens").asInt());
        }
    }

    @Test
    void promptListsTimesNGiveIndexPromptTimesNPlusJ() {
        ObjectNode body = completion(3).put("n", 2).put("temperature", 0.8).put("seed", 5);
        ArrayNode prompts = body.putArray("prompt");
        prompts.add("First prompt");
        ArrayNode second = prompts.addArray();
        tokenize("Second, longer prompt").forEach(second::add);
        JsonNode j = server.http.post("/v1/completions", body).json();
        assertEquals(4, j.get("choices").size());
        List<Integer> indices = new ArrayList<>();
        j.get("choices").forEach(c -> indices.add(c.get("index").asInt()));
        assertEquals(List.of(0, 1, 2, 3), indices);
        assertEquals(tokenize("First prompt").size() + tokenize("Second, longer prompt").size(),
                j.at("/usage/prompt_tokens").asInt(), "each prompt counted once");
        assertEquals(12, j.at("/usage/completion_tokens").asInt());
        // Greedy choice 2 (prompt 1, j = 0) is the solo greedy continuation of prompt 1.
        ObjectNode greedyList = completion(3);
        greedyList.putArray("prompt").add("First prompt").add("Second, longer prompt");
        JsonNode greedy = server.http.post("/v1/completions", greedyList).json();
        JsonNode solo = server.http.post("/v1/completions", completion(3).put("prompt", "Second, longer prompt")).json();
        assertEquals(solo.at("/choices/0/text"), greedy.at("/choices/1/text"));
    }

    @Test
    void echoRepeatsThePrompt() {
        JsonNode plain = server.http.post("/v1/completions", completion(4).put("prompt", "Echo this")).json();
        JsonNode echoed = server.http.post("/v1/completions", completion(4).put("prompt", "Echo this")
                .put("echo", true)).json();
        assertEquals("Echo this" + plain.at("/choices/0/text").asText(), echoed.at("/choices/0/text").asText());
        StringBuilder streamed = new StringBuilder();
        for (JsonNode e : server.http.post("/v1/completions", completion(4).put("prompt", "Echo this").put("echo", true)
                .put("stream", true)).events()) {
            streamed.append(e.at("/choices/0/text").asText());
        }
        assertEquals(echoed.at("/choices/0/text").asText(), streamed.toString());
    }

    @Test
    void logprobsAreTheLegacyParallelLists() {
        JsonNode lp = server.http.post("/v1/completions", completion(4).put("prompt", "Log me").put("logprobs", 3))
                .json().at("/choices/0/logprobs");
        assertEquals(4, lp.get("tokens").size());
        assertEquals(4, lp.get("token_logprobs").size());
        assertEquals(4, lp.get("top_logprobs").size());
        int offset = 0;
        for (int i = 0; i < 4; i++) {
            assertEquals(offset, lp.get("text_offset").get(i).asInt());
            offset += lp.get("tokens").get(i).asText().length();
            JsonNode top = lp.get("top_logprobs").get(i);
            assertTrue(top.size() >= 1 && top.size() <= 3);
            // Greedy: the chosen token is the best alternative.
            assertEquals(lp.get("token_logprobs").get(i).asDouble(), top.properties().iterator().next().getValue()
                    .asDouble(), 1e-6);
        }
        JsonNode echoed = server.http.post("/v1/completions", completion(2).put("prompt", "Log me").put("logprobs", 0)
                .put("echo", true)).json().at("/choices/0/logprobs/text_offset/0");
        assertEquals("Log me".length(), echoed.asInt(), "offsets count the echoed prompt");
    }

    @Test
    void streamedCompletionEndsWithFinishReasonUsageAndDone() {
        ObjectNode body = completion(5).put("prompt", "Stream").put("stream", true).put("n", 2);
        body.putObject("stream_options").put("include_usage", true);
        var r = server.http.post("/v1/completions", body);
        assertTrue(r.text().endsWith("data: [DONE]\n\n"));
        List<JsonNode> events = r.events();
        Map<Integer, StringBuilder> texts = new HashMap<>();
        Map<Integer, String> finish = new HashMap<>();
        for (JsonNode e : events.subList(0, events.size() - 1)) {
            assertEquals("text_completion", e.get("object").asText());
            JsonNode c = e.at("/choices/0");
            texts.computeIfAbsent(c.get("index").asInt(), k -> new StringBuilder()).append(c.get("text").asText());
            if (!c.get("finish_reason").isNull()) {
                finish.put(c.get("index").asInt(), c.get("finish_reason").asText());
            }
        }
        assertEquals(Map.of(0, "length", 1, "length"), finish);
        assertEquals(texts.get(0).toString(), texts.get(1).toString(), "greedy n=2: identical choices");
        assertEquals(0, events.getLast().get("choices").size());
        assertEquals(10, events.getLast().at("/usage/completion_tokens").asInt());
    }

    @Test
    void suffixBuildsTheFimPromptOnce() {
        String prefix = "def add(a, b):\n";
        String suffix = "\n    return c";
        List<Integer> fimIds = tokenize(FimPrompt.build(prefix, suffix));
        ObjectNode body = completion(4).put("prompt", prefix).put("suffix", suffix);
        JsonNode fim = server.http.post("/v1/completions", body).json();
        assertEquals(fimIds.size(), fim.at("/usage/prompt_tokens").asInt());
        // A prompt that already is a FIM prompt is not wrapped again.
        JsonNode preformatted = server.http.post("/v1/completions", completion(4)
                .put("prompt", FimPrompt.build(prefix, suffix)).put("suffix", "")).json();
        assertEquals(fimIds.size(), preformatted.at("/usage/prompt_tokens").asInt());
        assertEquals(fim.at("/choices/0/text"), preformatted.at("/choices/0/text"));
        JsonNode beta = server.http.post("/beta/completions", body).json();
        assertEquals(fim.at("/choices/0/text"), beta.at("/choices/0/text"));
        var ids = server.http.post("/v1/completions", completion(2).put("suffix", "x").set("prompt",
                HttpJson.parse("[1, 2]")));
        assertEquals(400, ids.status());
        assertEquals("prompt", ids.json().at("/error/param").asText());
    }

    @Test
    void returnTokenIdsAndStopTokenIds() {
        JsonNode j = server.http.post("/v1/completions", completion(6).put("prompt", "Ids please")
                .put("return_token_ids", true)).json().at("/choices/0");
        assertEquals(6, j.get("token_ids").size());
        assertEquals(tokenize("Ids please").size(), j.get("prompt_token_ids").size());
        int third = j.get("token_ids").get(2).asInt();
        ObjectNode stopping = completion(6).put("prompt", "Ids please").put("return_token_ids", true);
        stopping.putArray("stop_token_ids").add(third);
        JsonNode s = server.http.post("/v1/completions", stopping).json().at("/choices/0");
        assertEquals("stop", s.get("finish_reason").asText());
        int firstHit = 0;
        while (j.get("token_ids").get(firstHit).asInt() != third) {
            firstHit++;
        }
        assertEquals(firstHit + 1, s.get("token_ids").size(), "generation ends at the first stop token");
    }
}

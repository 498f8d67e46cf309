package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latentserve.server.engine.EngineStats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.latentserve.server.api.HttpJson.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many simultaneous streams with mixed lengths and parameters: each completes with the right usage, greedy and
 * seeded ones equal their solo runs (batching must not change results), and the KV cache ends where it began.
 */
class ConcurrencyTest {
    private static final int REQUESTS = 36;
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.demo();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** One request of the mix and what its stream produced. */
    record Case(String path, ObjectNode body, boolean greedy) {
    }

    record Outcome(String text, List<Integer> ids, String finishReason, JsonNode usage) {
    }

    private static List<Case> mix() {
        SplittableRandom random = new SplittableRandom(2026);
        String[] words = {"lighthouse", "harbour", "keeper", "spiral", "evening", "boats", "stairs", "code", "näive",
                "λ", "数据", "return", "x = 1;"};
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            StringBuilder prompt = new StringBuilder("Request " + i + ":");
            int words0 = 2 + random.nextInt(60);
            for (int w = 0; w < words0; w++) {
                prompt.append(' ').append(words[random.nextInt(words.length)]);
            }
            boolean greedy = i % 2 == 0;
            boolean chat = i % 3 != 0;
            ObjectNode body = obj().put("stream", true).put("max_tokens", 4 + random.nextInt(60))
                    .put("return_token_ids", true).put("ignore_eos", i % 4 != 1);
            body.putObject("stream_options").put("include_usage", true);
            if (greedy) {
                body.put("temperature", 0);
            } else {
                body.put("temperature", 0.9).put("top_p", 0.95).put("top_k", 40).put("seed", 1000 + i);
            }
            if (chat) {
                body.putArray("messages").addObject().put("role", "user").put("content", prompt.toString());
            } else {
                body.put("prompt", prompt.toString());
            }
            cases.add(new Case(chat ? "/v1/chat/completions" : "/v1/completions", body, greedy));
        }
        return cases;
    }

    private static Outcome run(Case c) {
        var r = server.http.post(c.path(), c.body());
        assertEquals(200, r.status(), r.text());
        assertTrue(r.text().endsWith("data: [DONE]\n\n"));
        StringBuilder text = new StringBuilder();
        List<Integer> ids = new ArrayList<>();
        String finish = null;
        JsonNode usage = null;
        for (JsonNode e : r.events()) {
            if (e.hasNonNull("usage")) {
                usage = e.get("usage");
            }
            for (JsonNode choice : e.get("choices")) {
                text.append(choice.has("delta") ? choice.at("/delta/content").asText("") : choice.get("text").asText());
                choice.path("token_ids").forEach(t -> ids.add(t.asInt()));
                if (!choice.get("finish_reason").isNull()) {
                    finish = choice.get("finish_reason").asText();
                }
            }
        }
        return new Outcome(text.toString(), ids, finish, usage);
    }

    private static int promptTokens(Case c) {
        ObjectNode t = obj();
        if (c.body().has("messages")) {
            t.set("messages", c.body().get("messages"));
        } else {
            t.set("prompt", c.body().get("prompt"));
        }
        return server.http.post("/tokenize", t).json().get("count").asInt();
    }

    @Test
    void simultaneousStreamsMatchTheirSoloRuns() throws Exception {
        List<Case> cases = mix();
        List<Outcome> solo = new ArrayList<>();
        for (Case c : cases) {
            solo.add(run(c));
        }
        EngineStats before = server.awaitIdle();

        CountDownLatch go = new CountDownLatch(1);
        List<Future<Outcome>> futures = new ArrayList<>();
        long start;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Case c : cases) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return run(c);
                }));
            }
            start = System.nanoTime();
            go.countDown();
        } // waits for every request
        double seconds = (System.nanoTime() - start) / 1e9;

        long generated = 0;
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            Outcome o = futures.get(i).get();
            int maxTokens = c.body().get("max_tokens").asInt();
            assertEquals(o.ids().size(), o.usage().get("completion_tokens").asInt(), "request " + i);
            assertEquals(promptTokens(c), o.usage().get("prompt_tokens").asInt(), "request " + i);
            assertEquals(o.usage().get("prompt_tokens").asInt() + o.ids().size(),
                    o.usage().get("total_tokens").asInt());
            assertTrue(o.ids().size() <= maxTokens);
            if (c.body().get("ignore_eos").asBoolean()) {
                assertEquals(maxTokens, o.ids().size(), "request " + i);
                assertEquals("length", o.finishReason());
            }
            // Greedy requests must not depend on their batch; seeded ones neither (one generator per request).
            assertEquals(solo.get(i).ids(), o.ids(), (c.greedy() ? "greedy" : "seeded") + " request " + i);
            assertEquals(solo.get(i).text(), o.text(), "request " + i);
            generated += o.ids().size();
        }

        EngineStats after = server.awaitIdle();
        assertEquals(0, after.running());
        assertEquals(0, after.waiting());
        assertEquals(0.0, after.kvUsage());
        assertEquals(before.freeBlocks(), after.freeBlocks());
        System.out.printf("concurrency: %d streaming requests in %.2f s = %.2f requests/s, %d generated tokens = "
                        + "%.1f tokens/s, largest batch %d sequences (%d tokens)%n", cases.size(), seconds,
                cases.size() / seconds, generated, generated / seconds, after.maxBatchSeqsSeen(),
                after.maxBatchTokensSeen());
        assertTrue(after.maxBatchSeqsSeen() > 1, "requests were batched together");
    }
}

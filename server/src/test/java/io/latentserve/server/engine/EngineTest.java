package io.latentserve.server.engine;

import io.latentserve.server.engine.sample.FinishReason;
import io.latentserve.server.engine.sample.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.latentserve.server.engine.EngineFixture.collect;
import static io.latentserve.server.engine.EngineFixture.prompt;
import static io.latentserve.server.engine.EngineFixture.request;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Continuous batching must not change what a greedy (or seeded) request generates, and must free every block. */
class EngineTest {
    private static final SamplingParams GREEDY = SamplingParams.greedy().withLogprobs(0);

    /** The reference: each request run alone on an engine of its own. */
    private static EngineFixture.Result solo(int[] prompt, SamplingParams params, int maxTokens) throws Exception {
        try (Engine engine = EngineFixture.engine(1, 4096, 16, 64)) {
            return collect(engine.submit(request("solo", prompt, params, maxTokens)));
        }
    }

    @Test
    void greedyOutputIsTheSameAloneAndBatchedWithRequestsOfOtherLengths() throws Exception {
        int[][] prompts = {prompt(1, 7), prompt(2, 33), prompt(3, 2), prompt(4, 70), prompt(5, 15)};
        int[] maxTokens = {12, 5, 20, 9, 16};
        try (Engine engine = EngineFixture.engine(8, 48, 16, 64)) { // small token budget: chunked prefill
            List<RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) {
                handles.add(engine.submit(request("r" + i, prompts[i], GREEDY, maxTokens[i])));
            }
            for (int i = 0; i < prompts.length; i++) {
                EngineFixture.Result batched = collect(handles.get(i));
                assertArrayEquals(solo(prompts[i], GREEDY, maxTokens[i]).tokens(), batched.tokens(), "request " + i);
                assertEquals(maxTokens[i], batched.completionTokens());
                assertEquals(FinishReason.LENGTH, batched.finish());
            }
            EngineStats stats = EngineFixture.awaitIdle(engine);
            assertEquals(0.0, stats.kvUsage(), "no block stays referenced");
            assertEquals(stats.totalBlocks(), stats.freeBlocks(), "all blocks free or evictable");
            assertTrue(stats.maxBatchSeqsSeen() > 1, "requests really shared batches");
        }
    }

    @Test
    void preemptedRequestsAreRecomputedAndStillGenerateTheSameTokens() throws Exception {
        int[][] prompts = {prompt(11, 20), prompt(12, 25), prompt(13, 18), prompt(14, 30)};
        try (Engine engine = EngineFixture.engine(8, 256, 8, 12)) { // 96 tokens of cache for ~4 x 50
            List<RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) {
                handles.add(engine.submit(request("p" + i, prompts[i], GREEDY, 20)));
            }
            for (int i = 0; i < prompts.length; i++) {
                assertArrayEquals(solo(prompts[i], GREEDY, 20).tokens(), collect(handles.get(i)).tokens(), "request " + i);
            }
            EngineStats stats = EngineFixture.awaitIdle(engine);
            assertTrue(stats.preemptions() > 0, "the cache was small enough to force preemption");
            assertEquals(0.0, stats.kvUsage());
        }
    }

    @Test
    void aPrefixCacheHitReusesBlocksAndGivesTheSameTokens() throws Exception {
        int[] prompt = prompt(21, 50);
        try (Engine engine = EngineFixture.engine(4, 4096, 16, 64)) {
            EngineFixture.Result first = collect(engine.submit(request("a", prompt, GREEDY, 10)));
            EngineFixture.Result second = collect(engine.submit(request("b", prompt, GREEDY, 10)));
            assertEquals(0, first.cachedTokens());
            assertEquals(48, second.cachedTokens(), "three full 16-token blocks of the 50-token prompt");
            assertArrayEquals(first.tokens(), second.tokens());
            EngineStats stats = EngineFixture.awaitIdle(engine);
            assertEquals(48, stats.prefixHitTokens());
            assertEquals(100, stats.prefixQueriedTokens());
        }
    }

    @Test
    void seededSamplingIsReproducibleWhateverTheBatch() throws Exception {
        SamplingParams seeded = SamplingParams.defaults().withTemperature(0.9).withSeed(1234L).withLogprobs(0);
        int[] p = prompt(31, 12);
        int[] alone = solo(p, seeded, 15).tokens();
        try (Engine engine = EngineFixture.engine(8, 64, 16, 64)) {
            RequestHandle other = engine.submit(request("x", prompt(32, 40), GREEDY, 8));
            RequestHandle mine = engine.submit(request("y", p, seeded, 15));
            assertArrayEquals(alone, collect(mine).tokens());
            collect(other);
        }
    }

    @Test
    void cancellingARequestFreesItsBlocksAtOnce() throws Exception {
        try (Engine engine = EngineFixture.engine(4, 4096, 16, 64)) {
            RequestHandle h = engine.submit(request("c", prompt(41, 30), GREEDY, 900));
            h.next(); // it is running
            h.cancel();
            EngineFixture.Result r = collect(h);
            assertEquals(FinishReason.ABORT, r.finish());
            EngineStats stats = EngineFixture.awaitIdle(engine);
            assertEquals(0.0, stats.kvUsage());
            assertEquals(1L, stats.finishedByReason().get("abort"));
        }
    }

    @Test
    void requestsThatCanNeverFitAreRejectedUpFront() {
        try (Engine engine = EngineFixture.engine(4, 4096, 16, 4)) { // 64 tokens of cache
            EngineException tooLong = assertThrows(EngineException.class,
                    () -> engine.submit(request("l", prompt(1, 10), GREEDY, 4090)));
            assertEquals(EngineException.Kind.INVALID, tooLong.kind());
            assertTrue(tooLong.getMessage().contains("maximum context length is 4096 tokens"), tooLong.getMessage());
            EngineException noCache = assertThrows(EngineException.class,
                    () -> engine.submit(request("k", prompt(1, 60), GREEDY, 10)));
            assertTrue(noCache.getMessage().contains("KV cache"), noCache.getMessage());
            assertEquals(0, engine.stats().running());
        }
    }

    @Test
    void aFullQueueRefusesNewRequests() throws Exception {
        var m = EngineFixture.model();
        try (Engine engine = new Engine(m.model(), m.tokenizer(), new EngineConfig(1, 4096, 16, 64, 4096, 2),
                EngineListener.NONE)) {
            List<RequestHandle> accepted = new ArrayList<>();
            EngineException full = null;
            for (int i = 0; i < 10 && full == null; i++) {
                try {
                    accepted.add(engine.submit(request("q" + i, prompt(50 + i, 10), GREEDY, 300)));
                } catch (EngineException e) {
                    full = e;
                }
            }
            assertTrue(full != null && full.kind() == EngineException.Kind.QUEUE_FULL, "queue limit enforced");
            accepted.forEach(RequestHandle::cancel);
            for (RequestHandle h : accepted) {
                collect(h);
            }
            assertEquals(0.0, EngineFixture.awaitIdle(engine).kvUsage());
        }
    }
}

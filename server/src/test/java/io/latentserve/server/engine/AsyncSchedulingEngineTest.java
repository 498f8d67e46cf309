package io.latentserve.server.engine;

import io.latentserve.model.LoadedModel;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.random.DemoModel;
import io.latentserve.server.engine.sample.FinishReason;
import io.latentserve.server.engine.sample.SamplingParams;
import io.latentserve.server.engine.sample.StopConditions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.latentserve.server.engine.EngineFixture.prompt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Async scheduling changes no output: the demo model on a backend double that samples on the device and
 * hands tokens over late ({@link DeferredSamplingBackend}) gives every request of a concurrent mix (greedy,
 * seeded sampling, max_tokens 1, a stop token at the first token, a stop string, a host-sampled logprobs
 * request, a late arrival, a cancel) the same text, token counts and finish reasons with async scheduling
 * on as off, the same engine counters, and every KV block back at the end; and the loop really pipelines.
 */
class AsyncSchedulingEngineTest {
    static DeferredSamplingBackend device;
    static LoadedModel model;

    @BeforeAll
    static void open() throws Exception {
        Path root = Path.of(System.getProperty("java.io.tmpdir"), "latentserve-test-cache");
        Files.createDirectories(root);
        device = new DeferredSamplingBackend(new CpuBackend(2));
        model = LoadedModel.open(DemoModel.ensure(root), device.backend);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
            model.model().backend().close();
        }
    }

    static GenerationRequest request(String id, int[] prompt, SamplingParams params, int maxTokens,
                                     List<String> stopStrings, Set<Integer> stopIds) {
        return new GenerationRequest(id, prompt, params, new StopConditions(stopStrings, stopIds, Set.of(), true,
                maxTokens, prompt.length, 4096));
    }

    static GenerationRequest request(String id, int[] prompt, SamplingParams params, int maxTokens) {
        return request(id, prompt, params, maxTokens, List.of(), Set.of());
    }

    static Engine engine(boolean async) {
        return new Engine(model.model(), model.tokenizer(),
                new EngineConfig(16, 256, 16, 256, 4096, 1000, true).withAsyncScheduling(async), EngineListener.NONE);
    }

    static final SamplingParams GREEDY = SamplingParams.greedy();
    static final SamplingParams SEEDED = SamplingParams.defaults().withTemperature(0.8).withTruncation(20, 0.9, 0)
            .withSeed(11L);

    /** What a request's client saw, and the engine's counters at the end. */
    record Run(List<EngineFixture.Result> results, EngineStats stats) {
    }

    /**
     * The mix, submitted together (one late, after the long request has produced tokens); stopToken and
     * stopString stop r4 and r5, which share r0's prompt.
     */
    static Run run(boolean async, int stopToken, String stopString) throws InterruptedException {
        try (Engine engine = engine(async)) {
            assertEquals(async, engine.asyncScheduling());
            List<GenerationRequest> mix = List.of(
                    request("r0", prompt(1, 5), GREEDY, 24),
                    request("r1", prompt(2, 9), SEEDED, 30),
                    request("r2", prompt(3, 14), SamplingParams.defaults().withTemperature(1.3).withSeed(12L), 17),
                    request("r3", prompt(4, 7), GREEDY, 1),
                    request("r4", prompt(1, 5), GREEDY, 20, List.of(), Set.of(stopToken)),
                    request("r5", prompt(1, 5), GREEDY, 24, List.of(stopString), Set.of()),
                    request("r6", prompt(5, 6), GREEDY.withLogprobs(1), 6),
                    request("r7", prompt(6, 11), SEEDED.withSeed(13L), 60));
            List<RequestHandle> handles = new ArrayList<>();
            for (GenerationRequest r : mix) {
                handles.add(engine.submit(r));
            }
            RequestHandle longest = handles.getLast();
            List<GenerationOutput> seen = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                seen.add(longest.next(120, TimeUnit.SECONDS));
            }
            RequestHandle late = engine.submit(request("r8", prompt(7, 4), GREEDY, 12));
            List<EngineFixture.Result> results = new ArrayList<>();
            for (RequestHandle h : handles.subList(0, handles.size() - 1)) {
                results.add(EngineFixture.collect(h));
            }
            results.add(rest(seen, EngineFixture.collect(longest)));
            results.add(EngineFixture.collect(late));
            EngineStats stats = EngineFixture.awaitIdle(engine);
            assertEquals(stats.totalBlocks(), stats.freeBlocks(), "every KV block is back: " + stats);
            return new Run(results, stats);
        }
    }

    /** The whole text of a request whose first outputs were read before collect. */
    static EngineFixture.Result rest(List<GenerationOutput> first, EngineFixture.Result tail) {
        StringBuilder text = new StringBuilder();
        for (GenerationOutput o : first) {
            assertNotNull(o);
            text.append(o.text());
        }
        return new EngineFixture.Result(tail.tokens(), text + tail.text(), tail.finish(), tail.cachedTokens(),
                tail.completionTokens());
    }

    @Test
    void theSameOutputsWithAsyncSchedulingOnAndOff() throws Exception {
        EngineFixture.Result plain;
        try (Engine engine = engine(false)) {
            plain = collectWithTokens(engine, request("probe", prompt(1, 5), GREEDY.withLogprobs(0), 24));
        }
        int firstToken = plain.tokens()[0];
        String stopString = plain.text().substring(plain.text().length() / 2, plain.text().length() / 2 + 2);
        int launchesBefore = device.launches.get();
        Run off = run(false, firstToken, stopString);
        assertEquals(launchesBefore, device.launches.get(), "off: no step is launched ahead");
        device.log.clear();
        Run on = run(true, firstToken, stopString);
        assertTrue(device.pipelined(), "a step was launched before the one before it was awaited: " + device.log);
        assertTrue(device.resolvedMarkers.get() > 0, "inputs named tokens still on the device");
        for (int i = 0; i < off.results().size(); i++) {
            EngineFixture.Result a = off.results().get(i);
            EngineFixture.Result b = on.results().get(i);
            String what = "request r" + i;
            assertEquals(a.text(), b.text(), what);
            assertEquals(a.finish(), b.finish(), what);
            assertEquals(a.completionTokens(), b.completionTokens(), what);
            assertEquals(java.util.Arrays.toString(a.tokens()), java.util.Arrays.toString(b.tokens()), what);
        }
        List<EngineFixture.Result> r = on.results();
        assertEquals(FinishReason.LENGTH, r.get(3).finish());
        assertEquals(1, r.get(3).completionTokens(), "max_tokens 1");
        assertEquals(FinishReason.STOP, r.get(4).finish());
        assertEquals(1, r.get(4).completionTokens(), "a stop token at the very first token");
        assertEquals(FinishReason.STOP, r.get(5).finish(), "the stop string");
        assertEquals(60, r.get(7).completionTokens());
        assertEquals(off.stats().promptTokens(), on.stats().promptTokens());
        assertEquals(off.stats().generationTokens(), on.stats().generationTokens());
        assertEquals(off.stats().finishedByReason(), on.stats().finishedByReason());
    }

    /**
     * Requests with logit edits sample on the device too, pipelined like any other: a logit bias (the same edits
     * every step) and penalties, whose edits in a step launched ahead count the previous step's token, still on
     * the device (LogitEdits.pendingRow); the same tokens with async scheduling on as off.
     */
    @Test
    void logitEditsGiveTheSameOutputsWithAsyncSchedulingOnAndOff() throws Exception {
        List<GenerationRequest> mix = List.of(
                request("penalised", prompt(11, 9), SEEDED.withSeed(21L).withPenalties(0.4, 0.2, 1.3), 10),
                request("biased", prompt(12, 7), SEEDED.withSeed(22L).withLogitBias(java.util.Map.of(3, 4f, 9, -100f)),
                        40),
                request("greedy", prompt(13, 5), GREEDY.withPenalties(1.5, 1.0, 1.2), 16),
                request("plain", prompt(14, 6), GREEDY, 40));
        List<List<EngineFixture.Result>> runs = new ArrayList<>();
        for (boolean async : new boolean[]{false, true}) {
            device.log.clear();
            device.resolvedPendingEdits.set(0);
            try (Engine engine = engine(async)) {
                List<RequestHandle> handles = new ArrayList<>();
                for (GenerationRequest r : mix) {
                    handles.add(engine.submit(r));
                }
                List<EngineFixture.Result> results = new ArrayList<>();
                for (RequestHandle h : handles) {
                    results.add(EngineFixture.collect(h));
                }
                EngineStats stats = EngineFixture.awaitIdle(engine);
                assertEquals(stats.totalBlocks(), stats.freeBlocks(), "every KV block is back: " + stats);
                runs.add(results);
            }
            assertEquals(async, device.pipelined(), "pipelined only with async scheduling: " + device.log);
            assertEquals(async, device.resolvedPendingEdits.get() > 0, "penalties counted tokens still on the device");
        }
        for (int i = 0; i < mix.size(); i++) {
            EngineFixture.Result a = runs.get(0).get(i);
            EngineFixture.Result b = runs.get(1).get(i);
            assertEquals(a.text(), b.text(), mix.get(i).requestId());
            assertEquals(a.completionTokens(), b.completionTokens(), mix.get(i).requestId());
        }
    }

    /** Collects a logprobs request, whose outputs carry the token ids. */
    static EngineFixture.Result collectWithTokens(Engine engine, GenerationRequest request) throws InterruptedException {
        return EngineFixture.collect(engine.submit(request));
    }

    @Test
    void aCancelMidStreamFreesEverything() throws Exception {
        int[] p = prompt(9, 8);
        String full;
        try (Engine engine = engine(false)) {
            full = EngineFixture.collect(engine.submit(request("full", p, GREEDY, 40))).text();
        }
        device.log.clear();
        try (Engine engine = engine(true)) {
            RequestHandle other = engine.submit(request("other", prompt(10, 6), SEEDED, 40));
            RequestHandle h = engine.submit(request("c", p, GREEDY, 200));
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < 6; i++) {
                GenerationOutput o = h.next(120, TimeUnit.SECONDS);
                assertNotNull(o);
                text.append(o.text());
            }
            h.cancel();
            EngineFixture.Result rest = EngineFixture.collect(h);
            text.append(rest.text());
            assertEquals(FinishReason.ABORT, rest.finish());
            assertTrue(full.startsWith(text.toString()) || text.toString().startsWith(full),
                    "the cancelled stream is a prefix of the plain run: " + text + " vs " + full);
            assertEquals(40, EngineFixture.collect(other).completionTokens());
            EngineStats stats = EngineFixture.awaitIdle(engine);
            assertEquals(stats.totalBlocks(), stats.freeBlocks(), "every KV block is back: " + stats);
            assertEquals(1L, stats.finishedByReason().get("abort"));
        }
        assertTrue(device.pipelined(), "the decode was pipelined: " + device.log);
    }

    @Test
    void withoutABackendThatSamplesAsyncSchedulingIsOff() {
        var cpu = EngineFixture.model();
        try (Engine engine = new Engine(cpu.model(), cpu.tokenizer(),
                new EngineConfig(4, 256, 16, 64, 4096, 10).withAsyncScheduling(true), EngineListener.NONE)) {
            assertFalse(engine.asyncScheduling());
        }
        try (Engine engine = new Engine(model.model(), model.tokenizer(),
                new EngineConfig(4, 256, 16, 64, 4096, 10, false).withAsyncScheduling(true), EngineListener.NONE)) {
            assertFalse(engine.asyncScheduling(), "device sampling off: nothing to pipeline");
        }
    }
}

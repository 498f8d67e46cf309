package io.latentserve.server.engine;

import io.latentserve.model.LoadedModel;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.random.DemoModel;
import io.latentserve.server.engine.sample.SamplingParams;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.latentserve.server.engine.EngineFixture.prompt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Async scheduling keeps the pipeline going through prefill: with a token budget of 24, long prompts arriving while
 * others decode are prefilled in chunks, and steps holding those chunks (and newly admitted requests) are launched
 * before the step before them is awaited. The outputs (tokens, text, finish reasons) are the same as with async
 * scheduling off, and every KV block comes back.
 */
class AsyncSchedulingPrefillTest {

    record Run(List<EngineFixture.Result> results, DeferredSamplingBackend device) {
    }

    static Run run(boolean async) throws Exception {
        Path root = Path.of(System.getProperty("java.io.tmpdir"), "latentserve-test-cache");
        Files.createDirectories(root);
        DeferredSamplingBackend device = new DeferredSamplingBackend(new CpuBackend(2));
        SamplingParams greedy = SamplingParams.greedy();
        SamplingParams seeded = SamplingParams.defaults().withTemperature(0.8).withTruncation(40, 0.9, 0).withSeed(3L);
        try (LoadedModel model = LoadedModel.open(DemoModel.ensure(root), device.backend);
             Engine engine = new Engine(model.model(), model.tokenizer(),
                     new EngineConfig(8, 24, 16, 128, 4096, 1000, true).withAsyncScheduling(async),
                     EngineListener.NONE)) {
            List<RequestHandle> handles = new ArrayList<>();
            handles.add(engine.submit(EngineFixture.request("d0", prompt(31, 6), greedy, 40)));
            handles.add(engine.submit(EngineFixture.request("d1", prompt(32, 9), seeded, 40)));
            for (int i = 0; i < 4; i++) {   // both decode before the long prompts arrive
                assertNotNull(handles.getFirst().next(120, TimeUnit.SECONDS));
            }
            handles.add(engine.submit(EngineFixture.request("p0", prompt(33, 70), greedy, 12)));
            handles.add(engine.submit(EngineFixture.request("p1", prompt(34, 45), seeded.withSeed(4L), 15)));
            handles.add(engine.submit(EngineFixture.request("p2", prompt(35, 30), greedy.withLogprobs(0), 6)));
            List<EngineFixture.Result> results = new ArrayList<>();
            for (RequestHandle h : handles) {
                results.add(EngineFixture.collect(h));
            }
            EngineStats stats = EngineFixture.awaitIdle(engine);
            assertEquals(stats.totalBlocks(), stats.freeBlocks(), "every KV block is back: " + stats);
            return new Run(results, device);
        } finally {
            device.backend.close();
        }
    }

    @Test
    void prefillChunksAndArrivalsRideThePipelineWithTheSameOutputs() throws Exception {
        Run off = run(false);   // d0's first 4 outputs are read before the rest in both runs alike
        Run on = run(true);
        for (int i = 0; i < off.results().size(); i++) {
            EngineFixture.Result a = off.results().get(i);
            EngineFixture.Result b = on.results().get(i);
            String what = "request " + i;
            assertEquals(Arrays.toString(a.tokens()), Arrays.toString(b.tokens()), what);
            assertEquals(a.text(), b.text(), what);
            assertEquals(a.finish(), b.finish(), what);
            assertEquals(a.completionTokens(), b.completionTokens(), what);
        }
        List<Integer> pipelined = on.device().pipelinedLaunches();
        List<int[]> shapes = List.copyOf(on.device().launchedShapes);
        boolean prefillPipelined = false;
        for (int k : pipelined) {
            prefillPipelined |= shapes.get(k)[0] > shapes.get(k)[1];   // more tokens than sampled rows: a prefill chunk
        }
        assertTrue(prefillPipelined, "a step with a prefill chunk was launched ahead: launches " + pipelined);
    }
}

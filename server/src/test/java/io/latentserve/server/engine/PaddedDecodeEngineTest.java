package io.latentserve.server.engine;

import io.latentserve.model.LoadedModel;
import io.latentserve.model.backend.DecodeBuckets;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.random.DemoModel;
import io.latentserve.server.engine.sample.SamplingParams;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static io.latentserve.server.engine.EngineFixture.prompt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decode steps padded to the backend's buckets (what the CUDA backend asks for with graphs on) change no output:
 * the demo model on a backend double that samples on the device and asks for buckets of 2, 4 and 8 gives a mix of
 * 7 concurrent requests (greedy, seeded, a host-sampled logprobs request, different lengths, so the batch shrinks
 * through 7, 6, ... 1) the same tokens, text and finish reasons as without padding, synchronously and with async
 * scheduling; every decode-only step (as many tokens as sampled rows) really ran a bucket's rows; the pool's
 * blocks all come back (the padding rows' block is outside it).
 */
class PaddedDecodeEngineTest {
    static final DecodeBuckets BUCKETS = DecodeBuckets.of(2, 4, 8);

    static List<GenerationRequest> mix() {
        SamplingParams greedy = SamplingParams.greedy();
        SamplingParams seeded = SamplingParams.defaults().withTemperature(0.9).withTruncation(30, 0.95, 0).withSeed(5L);
        return List.of(
                EngineFixture.request("a", prompt(21, 5), greedy, 9),
                EngineFixture.request("b", prompt(22, 8), seeded, 14),
                EngineFixture.request("c", prompt(23, 3), greedy, 3),
                EngineFixture.request("d", prompt(24, 6), seeded.withSeed(6L), 21),
                EngineFixture.request("e", prompt(25, 4), greedy.withLogprobs(1), 7),
                EngineFixture.request("f", prompt(26, 7), greedy, 1),
                EngineFixture.request("g", prompt(27, 5), seeded.withSeed(7L), 17));
    }

    /** The outputs, and the logit rows of every decode-only step (one token per row). */
    record Run(List<EngineFixture.Result> results, List<Integer> decodeRows) {
    }

    static Run run(DecodeBuckets buckets, boolean async) throws Exception {
        Path root = Path.of(System.getProperty("java.io.tmpdir"), "latentserve-test-cache");
        Files.createDirectories(root);
        DeferredSamplingBackend device = new DeferredSamplingBackend(new CpuBackend(2), buckets);
        try (LoadedModel model = LoadedModel.open(DemoModel.ensure(root), device.backend);
             Engine engine = new Engine(model.model(), model.tokenizer(),
                     new EngineConfig(16, 256, 16, 64, 4096, 1000, true).withAsyncScheduling(async),
                     EngineListener.NONE)) {
            List<RequestHandle> handles = new ArrayList<>();
            for (GenerationRequest r : mix()) {
                handles.add(engine.submit(r));
            }
            List<EngineFixture.Result> results = new ArrayList<>();
            for (RequestHandle h : handles) {
                results.add(EngineFixture.collect(h));
            }
            EngineStats stats = EngineFixture.awaitIdle(engine);
            assertEquals(stats.totalBlocks(), stats.freeBlocks(), "every pool block is back: " + stats);
            assertEquals(64, stats.totalBlocks(), "the padding block is not the pool's");
            List<Integer> decodeRows = new ArrayList<>();
            for (int[] shape : List.copyOf(device.stepShapes)) {
                if (shape[0] == shape[1]) {
                    decodeRows.add(shape[1]);
                }
            }
            return new Run(results, decodeRows);
        } finally {
            device.backend.close();
        }
    }

    @ParameterizedTest(name = "async scheduling {0}")
    @ValueSource(booleans = {false, true})
    void paddedDecodeStepsChangeNoOutput(boolean async) throws Exception {
        Run plain = run(DecodeBuckets.NONE, async);
        Run padded = run(BUCKETS, async);
        for (int i = 0; i < plain.results().size(); i++) {
            EngineFixture.Result a = plain.results().get(i);
            EngineFixture.Result b = padded.results().get(i);
            String what = "request " + mix().get(i).requestId();
            assertEquals(Arrays.toString(a.tokens()), Arrays.toString(b.tokens()), what);
            assertEquals(a.text(), b.text(), what);
            assertEquals(a.finish(), b.finish(), what);
            assertEquals(a.completionTokens(), b.completionTokens(), what);
        }
        // without padding the batch shrinks through sizes between the buckets; with it every decode step has a
        // bucket's rows, down to 2 for the longest request alone
        Set<Integer> plainSizes = Set.copyOf(plain.decodeRows());
        assertTrue(plainSizes.contains(1) && plainSizes.contains(3), "the unpadded batch shrinks: " + plainSizes);
        List<Integer> paddedSizes = padded.decodeRows();
        for (int rows : paddedSizes) {
            assertTrue(rows == 2 || rows == 4 || rows == 8, "a decode step of " + rows + " rows: " + paddedSizes);
        }
        assertTrue(paddedSizes.contains(2) && paddedSizes.contains(4), "padded from 1 to 2, from 3 to 4: "
                + paddedSizes);
    }
}

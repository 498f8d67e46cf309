package io.latentserve.server.engine;

import io.latentserve.model.LoadedModel;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.random.DemoModel;
import io.latentserve.server.engine.sample.FinishReason;
import io.latentserve.server.engine.sample.SampledToken;
import io.latentserve.server.engine.sample.SamplingParams;
import io.latentserve.server.engine.sample.StopConditions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** The built-in demo model (cached in a temp folder shared by the test JVM) and helpers to drive an engine. */
final class EngineFixture {
    private static LoadedModel shared;

    private EngineFixture() {
    }

    static synchronized LoadedModel model() {
        if (shared == null) {
            try {
                Path root = Path.of(System.getProperty("java.io.tmpdir"), "latentserve-test-cache");
                Files.createDirectories(root);
                shared = LoadedModel.open(DemoModel.ensure(root), new CpuBackend(2));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return shared;
    }

    static Engine engine(int maxNumSeqs, int maxBatchedTokens, int blockSize, int numBlocks) {
        LoadedModel m = model();
        return new Engine(m.model(), m.tokenizer(), new EngineConfig(maxNumSeqs, maxBatchedTokens, blockSize,
                numBlocks, 4096, 1000), EngineListener.NONE);
    }

    static GenerationRequest request(String id, int[] prompt, SamplingParams params, int maxTokens) {
        return new GenerationRequest(id, prompt, params, new StopConditions(List.of(), Set.of(), Set.of(), true,
                maxTokens, prompt.length, 4096));
    }

    /** Everything a finished request produced. */
    record Result(int[] tokens, String text, FinishReason finish, int cachedTokens, int completionTokens) {
    }

    static Result collect(RequestHandle h) throws InterruptedException {
        List<Integer> ids = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        while (true) {
            GenerationOutput out = h.next(120, TimeUnit.SECONDS);
            if (out == null) {
                throw new AssertionError("request " + h.requestId() + " produced nothing for 120 s");
            }
            for (SampledToken t : out.tokens()) {
                ids.add(t.tokenId());
            }
            text.append(out.text());
            if (out.finished()) {
                return new Result(ids.stream().mapToInt(Integer::intValue).toArray(), text.toString(),
                        out.finishReason(), out.cachedTokens(), out.completionTokens());
            }
        }
    }

    static int[] prompt(long seed, int length) {
        return new java.util.SplittableRandom(seed).ints(length, 0, 256).toArray();
    }

    /** Waits until the engine has nothing running or waiting. */
    static EngineStats awaitIdle(Engine engine) throws InterruptedException {
        for (int i = 0; i < 400; i++) {
            EngineStats s = engine.stats();
            if (s.running() == 0 && s.waiting() == 0) {
                Thread.sleep(60); // one more loop turn so the snapshot is taken after the last free
                return engine.stats();
            }
            Thread.sleep(25);
        }
        throw new AssertionError("engine did not become idle: " + engine.stats());
    }
}

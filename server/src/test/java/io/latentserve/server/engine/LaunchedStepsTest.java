package io.latentserve.server.engine;

import io.latentserve.model.LoadedModel;
import io.latentserve.model.backend.KvCache;
import io.latentserve.server.engine.kv.BlockPool;
import io.latentserve.server.engine.kv.KvCacheManager;
import io.latentserve.server.engine.sample.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A finished sequence keeps its KV blocks while a launched step that has not been awaited still writes them,
 * and gets them freed exactly when that step has been accepted; with nothing in flight they go at once.
 */
class LaunchedStepsTest {
    private static final int BLOCK = 4;

    @Test
    void blocksWaitForTheLaunchedStepThatWritesThem() {
        LoadedModel m = EngineFixture.model();
        BlockPool pool = new BlockPool(8);
        KvCacheManager kv = new KvCacheManager(pool, BLOCK);
        try (KvCache cache = m.model().newKvCache(8, BLOCK)) {
            Sequence seq = new Sequence(1, EngineFixture.request("a", EngineFixture.prompt(1, 6), SamplingParams.greedy(),
                    4), new RequestHandle("a", h -> { }), m.tokenizer());
            kv.allocateForPrompt(seq.id, seq.allTokens(), 6);
            ModelRunner runner = new ModelRunner(m.model(), cache, kv, false);
            LaunchedSteps steps = new LaunchedSteps(kv);

            steps.launchedFirst(runner.launch(List.of(new Scheduler.Chunk(seq, 0, 6)), null), 0);
            steps.launchedNext(runner.launch(List.of(new Scheduler.Chunk(seq, 0, 6)), null), 0);
            int held = pool.totalBlocks() - pool.availableBlocks();
            assertTrue(held > 0);
            assertTrue(steps.deferFree(seq), "the next launched step still writes its KV");
            steps.current().await();
            steps.currentAccepted();
            assertEquals(held, pool.totalBlocks() - pool.availableBlocks(), "kept: the next step is not awaited yet");
            steps.current().await();
            steps.currentAccepted();
            assertEquals(pool.totalBlocks(), pool.availableBlocks(), "freed once the step writing them is accepted");
            assertFalse(steps.deferFree(seq), "nothing in flight: freed at once by the caller");
        }
    }
}

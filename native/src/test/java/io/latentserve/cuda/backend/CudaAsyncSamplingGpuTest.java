package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.model.RandomModels;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.PendingRows;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.graph.DeepseekV2Model;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.model.graph.Weights;
import io.latentserve.model.random.HashedTensorStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Async scheduling on the CUDA backend: passes launched with their tokens still on the way, each next pass
 * naming them by markers (gathered on the device) and launched before the previous one is awaited, sample
 * exactly the tokens of the synchronous path (forwardSampled with the tokens fed back from the host); a
 * marker naming a row the previous pass does not have is refused before anything runs.
 */
@Tag("gpu")
class CudaAsyncSamplingGpuTest {
    private static final int BLOCK = 16;
    private static final int STEPS = 3;
    private static final int[][] TABLES = {{0, 1}, {2, 3}};
    private static final int[][] PROMPTS = {{3, 1, 4, 1, 5}, {9, 2, 6, 5, 3, 5, 8}};

    /** Step s's sampling: greedy for sequence 0, temperature / top-k / top-p with a fixed draw for sequence 1. */
    private static RowSampling[] sampling(int step) {
        return new RowSampling[]{RowSampling.greedy(), new RowSampling(0.9, 20, 0.9, (0.37 + 0.21 * step) % 1)};
    }

    @Test
    void launchedPassesWithMarkersSampleTheSynchronousTokens() {
        ModelConfig config = RandomModels.deepseekConfig(false, false);
        try (CudaBackend cuda = CudaBackend.create(CudaContext.open(0, 1L << 28, 1L << 26, 1L << 28), false);
             DeepseekV2Model model = new DeepseekV2Model(config, new Weights(new HashedTensorStore(config, 9), cuda))) {
            List<int[]> sync = new ArrayList<>();
            try (KvCache cache = model.newKvCache(4, BLOCK)) {
                int[][] tokens = PROMPTS;
                int[] positions = {0, 0};
                for (int step = 0; step <= STEPS; step++) {
                    int[] next = model.forwardSampled(ForwardBatch.of(tokens, positions, TABLES, BLOCK), cache,
                            sampling(step)).tokens();
                    sync.add(next);
                    positions = new int[]{positions[0] + tokens[0].length, positions[1] + tokens[1].length};
                    tokens = new int[][]{{next[0]}, {next[1]}};
                }
            }
            List<int[]> async = new ArrayList<>();
            try (KvCache cache = model.newKvCache(4, BLOCK)) {
                PendingRows launched = model.launchSampled(ForwardBatch.of(PROMPTS, new int[]{0, 0}, TABLES, BLOCK),
                        cache, sampling(0), null);
                int[] positions = {PROMPTS[0].length, PROMPTS[1].length};
                for (int step = 1; step <= STEPS; step++) {
                    ForwardBatch plain = ForwardBatch.of(new int[][]{{0}, {0}}, positions, TABLES, BLOCK);
                    ForwardBatch marked = new ForwardBatch(new int[]{PendingRows.marker(0), PendingRows.marker(1)},
                            plain.attention(), plain.logitRows());
                    PendingRows next = model.launchSampled(marked, cache, sampling(step), launched);
                    async.add(launched.await().tokens());         // awaited after the next pass was launched
                    launched = next;
                    positions = new int[]{positions[0] + 1, positions[1] + 1};
                }
                async.add(launched.await().tokens());
                for (int step = 0; step <= STEPS; step++) {
                    assertEquals(Arrays.toString(sync.get(step)), Arrays.toString(async.get(step)), "step " + step);
                }
                PendingRows last = launched;
                ForwardBatch plain = ForwardBatch.of(new int[][]{{0}}, new int[]{positions[0]}, new int[][]{TABLES[0]},
                        BLOCK);
                var e = assertThrows(IllegalArgumentException.class, () -> model.launchSampled(new ForwardBatch(
                        new int[]{PendingRows.marker(2)}, plain.attention(), plain.logitRows()), cache,
                        new RowSampling[]{RowSampling.greedy()}, last));
                assertTrue(e.getMessage().contains("row 2"), e.getMessage());
            }
        }
    }
}

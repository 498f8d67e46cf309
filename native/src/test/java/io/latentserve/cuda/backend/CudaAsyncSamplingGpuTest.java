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
 * marker naming a row the previous pass does not have is refused before anything runs. With CUDA graphs on, the
 * launched decode steps replay graphs and still sample those tokens.
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
        try (CudaBackend cuda = open(false);
             DeepseekV2Model model = new DeepseekV2Model(config, new Weights(new HashedTensorStore(config, 9), cuda))) {
            List<int[]> sync = synchronousTokens(model, STEPS);
            try (KvCache cache = model.newKvCache(4, BLOCK)) {
                Launched async = launchTokens(model, cache, STEPS);
                for (int step = 0; step <= STEPS; step++) {
                    assertEquals(Arrays.toString(sync.get(step)), Arrays.toString(async.tokens.get(step)),
                            "step " + step);
                }
                PendingRows last = async.last;
                ForwardBatch plain = ForwardBatch.of(new int[][]{{0}}, new int[]{async.positions[0]},
                        new int[][]{TABLES[0]}, BLOCK);
                var e = assertThrows(IllegalArgumentException.class, () -> model.launchSampled(new ForwardBatch(
                        new int[]{PendingRows.marker(2)}, plain.attention(), plain.logitRows()), cache,
                        new RowSampling[]{RowSampling.greedy()}, last));
                assertTrue(e.getMessage().contains("row 2"), e.getMessage());
            }
        }
    }

    /**
     * Async scheduling with CUDA graphs: each launched pass begins while the previous one may still run, on the
     * other host staging set; the graphs read uploads from the staging's device copy, not from either set, so the
     * decode shape is one signature, captured on its second sight and replayed from then on, and the tokens are
     * those of the synchronous path without graphs. A replay that read stale uploads would feed the previous
     * step's positions, slots and marker rows.
     */
    @Test
    void launchedPassesReplayGraphsAndSampleTheSynchronousTokens() {
        int steps = 8;
        ModelConfig config = RandomModels.deepseekConfig(false, false);
        List<int[]> sync;
        try (CudaBackend cuda = open(false);
             DeepseekV2Model model = new DeepseekV2Model(config, new Weights(new HashedTensorStore(config, 9), cuda))) {
            sync = synchronousTokens(model, steps);
        }
        try (CudaBackend cuda = open(true);
             DeepseekV2Model model = new DeepseekV2Model(config, new Weights(new HashedTensorStore(config, 9), cuda));
             KvCache cache = model.newKvCache(4, BLOCK)) {
            List<int[]> async = launchTokens(model, cache, steps).tokens;
            for (int step = 0; step <= steps; step++) {
                assertEquals(Arrays.toString(sync.get(step)), Arrays.toString(async.get(step)), "step " + step);
            }
            long[] counts = cuda.graphCounts();
            assertEquals(1, counts[1], "one capture (decode step 2): both staging sets share the graph");
            assertEquals(steps - 2, counts[0], "replays: every decode step after the first two");
        }
    }

    /**
     * A launched pass may hold a prefill chunk beside the marker rows (async scheduling admits new requests and
     * continues prompts ahead): step 1 runs sequences 0 and 1's step-0 tokens by markers and all of sequence 2's
     * prompt, launched before step 0 is awaited; step 2 decodes the three by markers of step 1. The tokens are
     * those of the same passes run synchronously.
     */
    @Test
    void launchedPassesMixPrefillChunksWithMarkers() {
        ModelConfig config = RandomModels.deepseekConfig(false, false);
        int[][] tables = {{0, 1}, {2, 3}, {4, 5}};
        int[] prompt2 = {7, 7, 1, 8, 2, 8};
        try (CudaBackend cuda = open(false);
             DeepseekV2Model model = new DeepseekV2Model(config, new Weights(new HashedTensorStore(config, 9), cuda))) {
            RowSampling[] three = {RowSampling.greedy(), sampling(1)[1], new RowSampling(1.1, 0, 0.8, 0.61)};
            List<int[]> sync = new ArrayList<>();
            try (KvCache cache = model.newKvCache(6, BLOCK)) {
                int[] t0 = model.forwardSampled(ForwardBatch.of(PROMPTS, new int[]{0, 0}, TABLES, BLOCK), cache,
                        sampling(0)).tokens();
                int[] t1 = model.forwardSampled(ForwardBatch.of(new int[][]{{t0[0]}, {t0[1]}, prompt2},
                        new int[]{5, 7, 0}, tables, BLOCK), cache, three).tokens();
                int[] t2 = model.forwardSampled(ForwardBatch.of(new int[][]{{t1[0]}, {t1[1]}, {t1[2]}},
                        new int[]{6, 8, 6}, tables, BLOCK), cache, three).tokens();
                sync.addAll(List.of(t0, t1, t2));
            }
            try (KvCache cache = model.newKvCache(6, BLOCK)) {
                PendingRows p0 = model.launchSampled(ForwardBatch.of(PROMPTS, new int[]{0, 0}, TABLES, BLOCK), cache,
                        sampling(0), null);
                ForwardBatch plain1 = ForwardBatch.of(new int[][]{{0}, {0}, prompt2}, new int[]{5, 7, 0}, tables,
                        BLOCK);
                int[] ids1 = new int[2 + prompt2.length];
                ids1[0] = PendingRows.marker(0);
                ids1[1] = PendingRows.marker(1);
                System.arraycopy(prompt2, 0, ids1, 2, prompt2.length);
                PendingRows p1 = model.launchSampled(new ForwardBatch(ids1, plain1.attention(), plain1.logitRows()),
                        cache, three, p0);
                ForwardBatch plain2 = ForwardBatch.of(new int[][]{{0}, {0}, {0}}, new int[]{6, 8, 6}, tables, BLOCK);
                PendingRows p2 = model.launchSampled(new ForwardBatch(new int[]{PendingRows.marker(0),
                        PendingRows.marker(1), PendingRows.marker(2)}, plain2.attention(), plain2.logitRows()), cache,
                        three, p1);
                List<int[]> async = List.of(p0.await().tokens(), p1.await().tokens(), p2.await().tokens());
                for (int step = 0; step < 3; step++) {
                    assertEquals(Arrays.toString(sync.get(step)), Arrays.toString(async.get(step)), "step " + step);
                }
            }
        }
    }

    private static CudaBackend open(boolean graphs) {
        return CudaBackend.create(CudaContext.open(0, 1L << 28, 1L << 26, 1L << 28), graphs);
    }

    /** The prefill's tokens then steps decode steps', each pass's tokens fed back from the host. */
    private static List<int[]> synchronousTokens(DeepseekV2Model model, int steps) {
        List<int[]> sync = new ArrayList<>();
        try (KvCache cache = model.newKvCache(4, BLOCK)) {
            int[][] tokens = PROMPTS;
            int[] positions = {0, 0};
            for (int step = 0; step <= steps; step++) {
                int[] next = model.forwardSampled(ForwardBatch.of(tokens, positions, TABLES, BLOCK), cache,
                        sampling(step)).tokens();
                sync.add(next);
                positions = new int[]{positions[0] + tokens[0].length, positions[1] + tokens[1].length};
                tokens = new int[][]{{next[0]}, {next[1]}};
            }
        }
        return sync;
    }

    /** Tokens of launched passes, the last one still pending, and the positions the next step would take. */
    private record Launched(List<int[]> tokens, PendingRows last, int[] positions) {
    }

    /**
     * The same passes launched: each decode step names the previous pass's tokens by markers and is launched
     * before that pass is awaited.
     */
    private static Launched launchTokens(DeepseekV2Model model, KvCache cache, int steps) {
        List<int[]> async = new ArrayList<>();
        PendingRows launched = model.launchSampled(ForwardBatch.of(PROMPTS, new int[]{0, 0}, TABLES, BLOCK),
                cache, sampling(0), null);
        int[] positions = {PROMPTS[0].length, PROMPTS[1].length};
        for (int step = 1; step <= steps; step++) {
            ForwardBatch plain = ForwardBatch.of(new int[][]{{0}, {0}}, positions, TABLES, BLOCK);
            ForwardBatch marked = new ForwardBatch(new int[]{PendingRows.marker(0), PendingRows.marker(1)},
                    plain.attention(), plain.logitRows());
            PendingRows next = model.launchSampled(marked, cache, sampling(step), launched);
            async.add(launched.await().tokens());         // awaited after the next pass was launched
            launched = next;
            positions = new int[]{positions[0] + 1, positions[1] + 1};
        }
        async.add(launched.await().tokens());
        return new Launched(async, launched, positions);
    }
}

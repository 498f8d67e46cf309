package io.latentserve.model.graph;

import io.latentserve.model.RandomModels;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.PendingRows;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Markers (async scheduling's inputs naming tokens the previous pass sampled) resolve to those tokens: a
 * pass fed markers gives what the same pass fed the tokens gives; a marker naming nothing is refused. This
 * runs the default (host) resolution; the CUDA backend's device resolution has its own GPU test.
 */
class PendingRowsTest {
    private static final int BLOCK = 4;
    private static final CpuBackend CPU = new CpuBackend(2);
    /** The CPU backend, claiming to sample rows (by the reference rules): markers may name its sampled rows. */
    private static final Backend BACKEND = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
            new Class<?>[]{Backend.class}, (proxy, method, args) -> switch (method.getName()) {
                case "samplesRows" -> true;
                case "sampleRows" -> sampleRows((Tensor) args[0], (RowSampling[]) args[1]);
                case "launchSampleRows" -> PendingRows.completed(sampleRows((Tensor) args[0], (RowSampling[]) args[1]));
                default -> {
                    try {
                        yield method.invoke(CPU, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                }
            });

    private static SampledRows sampleRows(Tensor logits, RowSampling[] sampling) {
        float[][] rows = CPU.toHostRows(logits);
        int[] tokens = new int[rows.length];
        for (int r = 0; r < rows.length; r++) {
            tokens[r] = sampling[r] == null ? SampledRows.NOT_SAMPLED : sampling[r].sample(rows[r]);
            rows[r] = sampling[r] == null ? rows[r] : null;
        }
        return new SampledRows(tokens, rows);
    }
    private static final int[][] TABLES = {{0, 1, 2, 3}, {4, 5, 6, 7}};

    @AfterAll
    static void close() {
        CPU.close();
    }

    static int[] tokens(long seed, int n, int vocab) {
        return new SplittableRandom(seed).ints(n, 0, vocab).toArray();
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void markersResolveToThePreviousPassTokens(boolean llama) {
        ModelConfig config = llama ? RandomModels.llamaConfig(4, 2) : RandomModels.deepseekConfig(true, false);
        try (CausalLM model = RandomModels.model(config, BACKEND, 5)) {
            int vocab = config.vocabSize();
            int[][] prompts = {tokens(1, 7, vocab), tokens(2, 5, vocab)};
            RowSampling[] greedy = {RowSampling.greedy(), RowSampling.greedy()};
            int[] next;
            SampledRows viaMarkers;
            try (KvCache cache = model.newKvCache(8, BLOCK)) {
                PendingRows first = model.launchSampled(ForwardBatch.of(prompts, new int[]{0, 0}, TABLES, BLOCK), cache,
                        greedy, null);
                // the second sequence's token is named first: markers need not follow row order
                ForwardBatch plain = ForwardBatch.of(new int[][]{{0}, {0}}, new int[]{7, 5}, TABLES, BLOCK);
                ForwardBatch marked = new ForwardBatch(new int[]{PendingRows.marker(0), PendingRows.marker(1)},
                        plain.attention(), plain.logitRows());
                assertTrue(marked.hasMarkers());
                viaMarkers = model.launchSampled(marked, cache, greedy, first).await();
                next = first.await().tokens();
            }
            try (KvCache cache = model.newKvCache(8, BLOCK)) {
                model.forwardSampled(ForwardBatch.of(prompts, new int[]{0, 0}, TABLES, BLOCK), cache, greedy);
                SampledRows direct = model.forwardSampled(ForwardBatch.of(new int[][]{{next[0]}, {next[1]}},
                        new int[]{7, 5}, TABLES, BLOCK), cache, greedy);
                assertArrayEquals(direct.tokens(), viaMarkers.tokens());
            }
        }
    }

    @Test
    void aMarkerNamingNothingIsAClearError() {
        ModelConfig config = RandomModels.llamaConfig(4, 2);
        try (CausalLM model = RandomModels.model(config, BACKEND, 5); KvCache cache = model.newKvCache(8, BLOCK)) {
            int[][] prompts = {tokens(1, 3, config.vocabSize()), tokens(2, 3, config.vocabSize())};
            PendingRows first = model.launchSampled(ForwardBatch.of(prompts, new int[]{0, 0}, TABLES, BLOCK), cache,
                    new RowSampling[]{RowSampling.greedy(), null}, null); // row 1 comes to the host
            ForwardBatch plain = ForwardBatch.of(new int[][]{{0}}, new int[]{3}, TABLES, BLOCK);
            RowSampling[] one = {RowSampling.greedy()};
            var outOfRange = assertThrows(IllegalArgumentException.class, () -> model.launchSampled(
                    withIds(plain, PendingRows.marker(2)), cache, one, first));
            assertTrue(outOfRange.getMessage().contains("row 2"), outOfRange.getMessage());
            var hostRow = assertThrows(IllegalArgumentException.class, () -> model.launchSampled(
                    withIds(plain, PendingRows.marker(1)), cache, one, first));
            assertTrue(hostRow.getMessage().contains("did not sample"), hostRow.getMessage());
            var noPrevious = assertThrows(IllegalArgumentException.class, () -> model.launchSampled(
                    withIds(plain, PendingRows.marker(0)), cache, one, null));
            assertTrue(noPrevious.getMessage().contains("no sampled pass"), noPrevious.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.forward(withIds(plain, PendingRows.marker(0)), cache),
                    "a plain forward pass takes no markers");
        }
    }

    @Test
    void markerEncoding() {
        assertEquals(-1, PendingRows.marker(0));
        assertEquals(41, PendingRows.markerRow(PendingRows.marker(41)));
        assertThrows(IllegalArgumentException.class, () -> PendingRows.marker(-1));
        assertThrows(IllegalArgumentException.class, () -> PendingRows.markerRow(0));
        assertArrayEquals(new int[]{3, 9, 7}, PendingRows.resolve(new int[]{3, PendingRows.marker(1), 7},
                PendingRows.completed(new SampledRows(new int[]{4, 9}, new float[2][]))));
    }

    private static ForwardBatch withIds(ForwardBatch b, int... ids) {
        return new ForwardBatch(ids, b.attention(), b.logitRows());
    }
}

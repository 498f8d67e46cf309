package io.latentserve.model.graph;

import io.latentserve.model.RandomModels;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same sequence gives the same logits alone, batched with others of different lengths, prefilled in
 * chunks, or continued from cache blocks another sequence computed (prefix sharing): each token's arithmetic
 * does not depend on its neighbours in the batch, so the results are bit-identical (given one MLA form;
 * the two forms agree to rounding, tested separately).
 */
class BatchInvarianceTest {
    private static final int BLOCK = 4;
    private static final CpuBackend BACKEND = new CpuBackend(2);

    @AfterAll
    static void close() {
        BACKEND.close();
    }

    @ParameterizedTest
    @CsvSource({"true, false, false, AUTO", "false, true, false, DECOMPRESSED", "false, false, true, ABSORBED",
            "false, true, true, ABSORBED", "false, false, false, DECOMPRESSED"})
    void batchedChunkedAndSharedPrefixGiveIdenticalLogits(boolean llama, boolean qLora, boolean groupLimited,
                                                          MlaMode mode) {
        ModelConfig config = llama ? RandomModels.llamaConfig(4, 2) : RandomModels.deepseekConfig(qLora, groupLimited);
        try (CausalLM model = RandomModels.model(config, BACKEND, 11)) {
            if (model instanceof DeepseekV2Model dsv2) {
                dsv2.setMlaMode(mode); // one attention form throughout, so results must be bit-identical
            }
            int[] a = randomTokens(1, 13);
            int[] b = randomTokens(2, 6);
            int[] c = randomTokens(3, 9);
            float[][] alone = run(model, a);
            // A and B prefilled together with C, then A decoding beside C's prefill chunk.
            try (KvCache cache = model.newKvCache(64, BLOCK)) {
                int[][] tables = {range(0, 8), range(8, 8), range(16, 8)};
                float[][] first = model.forward(ForwardBatch.of(new int[][]{Arrays.copyOf(a, 10), b, Arrays.copyOf(c, 5)},
                        new int[]{0, 0, 0}, tables, BLOCK), cache);
                assertArrayEquals(alone[9], first[0], "A after 10 tokens, batched");
                float[][] second = model.forward(ForwardBatch.of(new int[][]{{a[10]}, Arrays.copyOfRange(c, 5, 9)},
                        new int[]{10, 5}, new int[][]{tables[0], tables[2]}, BLOCK), cache);
                assertArrayEquals(alone[10], second[0], "A decoding beside a prefill chunk");
                assertArrayEquals(run(model, c)[8], second[1], "C prefilled in two chunks");
            }
            // D shares A's first two full blocks (8 tokens) and computes only the rest.
            try (KvCache cache = model.newKvCache(64, BLOCK)) {
                int[] tableA = range(0, 4);
                model.forward(ForwardBatch.of(new int[][]{a}, new int[]{0}, new int[][]{tableA}, BLOCK), cache);
                int[] tableD = {tableA[0], tableA[1], 10, 11};
                float[][] d = model.forward(ForwardBatch.of(new int[][]{Arrays.copyOfRange(a, 8, 13)}, new int[]{8},
                        new int[][]{tableD}, BLOCK), cache);
                assertArrayEquals(alone[12], d[0], "A recomputed on a prefix-cache hit");
            }
        }
    }

    @Test
    void absorbedAndDecompressedAttentionAgree() {
        ModelConfig config = RandomModels.deepseekConfig(true, true);
        try (CausalLM model = RandomModels.model(config, BACKEND, 5)) {
            DeepseekV2Model dsv2 = (DeepseekV2Model) model;
            int[] tokens = randomTokens(9, 21);
            dsv2.setMlaMode(MlaMode.DECOMPRESSED);
            float[][] decompressed = run(model, tokens);
            dsv2.setMlaMode(MlaMode.ABSORBED);
            float[][] absorbed = run(model, tokens);
            dsv2.setMlaMode(MlaMode.AUTO);
            for (int i = 0; i < tokens.length; i++) {
                for (int v = 0; v < config.vocabSize(); v++) {
                    assertEquals(decompressed[i][v], absorbed[i][v], 1e-4, "token " + i + " logit " + v);
                }
            }
        }
    }

    /**
     * A short chunk after a cached prefix (a prefix-cache hit, a follow-up turn) runs absorbed in AUTO: the same
     * bits as ABSORBED, and the decompressed form's logits to rounding.
     */
    @Test
    void autoAbsorbsAShortChunkAfterACachedPrefix() {
        ModelConfig config = RandomModels.deepseekConfig(true, false);
        try (CausalLM model = RandomModels.model(config, BACKEND, 7)) {
            DeepseekV2Model dsv2 = (DeepseekV2Model) model;
            int[] tokens = randomTokens(4, 21);
            float[] auto = prefixThenChunk(dsv2, MlaMode.AUTO, tokens, 13);
            float[] absorbed = prefixThenChunk(dsv2, MlaMode.ABSORBED, tokens, 13);
            float[] decompressed = prefixThenChunk(dsv2, MlaMode.DECOMPRESSED, tokens, 13);
            dsv2.setMlaMode(MlaMode.AUTO);
            assertArrayEquals(absorbed, auto, "the chunk ran absorbed");
            boolean formsDiffer = false;
            for (int v = 0; v < config.vocabSize(); v++) {
                assertEquals(decompressed[v], auto[v], 1e-4, "logit " + v);
                formsDiffer |= decompressed[v] != auto[v];
            }
            assertTrue(formsDiffer, "the two forms round differently, so the bit equality above shows the route");
        }
    }

    /**
     * The logits after the last token: the first prefix tokens prefilled decompressed (as AUTO does a fresh
     * prompt, so every run caches the same rows), then the rest as one chunk in mode.
     */
    private static float[] prefixThenChunk(DeepseekV2Model model, MlaMode mode, int[] tokens, int prefix) {
        try (KvCache cache = model.newKvCache(16, BLOCK)) {
            int[] table = range(2, 8);
            model.setMlaMode(MlaMode.DECOMPRESSED);
            model.forward(ForwardBatch.of(new int[][]{Arrays.copyOf(tokens, prefix)}, new int[]{0},
                    new int[][]{table}, BLOCK), cache);
            model.setMlaMode(mode);
            return model.forward(ForwardBatch.of(new int[][]{Arrays.copyOfRange(tokens, prefix, tokens.length)},
                    new int[]{prefix}, new int[][]{table}, BLOCK), cache)[0];
        }
    }

    /** Logits after each token, prefilling the first token and decoding the rest one at a time. */
    static float[][] run(CausalLM model, int[] tokens) {
        float[][] out = new float[tokens.length][];
        try (KvCache cache = model.newKvCache(16, BLOCK)) {
            int[] table = range(3, 13);
            for (int i = 0; i < tokens.length; i++) {
                out[i] = model.forward(ForwardBatch.of(new int[][]{{tokens[i]}}, new int[]{i}, new int[][]{table}, BLOCK),
                        cache)[0];
            }
        }
        return out;
    }

    static int[] randomTokens(long seed, int n) {
        return new SplittableRandom(seed).ints(n, 3, 300).toArray();
    }

    static int[] range(int from, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = from + i;
        }
        return out;
    }
}

package io.latentserve.model.cpu;

import io.latentserve.model.RandomModels;
import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.backend.MlaShape;
import io.latentserve.model.checkpoint.DType;
import io.latentserve.model.checkpoint.Floats;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.model.graph.Golden;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bf16 KV cache of the CPU backend: what it stores, that attention over it is attention over the rounded
 * values (so it differs from the f32 cache only by that rounding), and what the rounding does to a model.
 */
class Bf16KvCacheTest {
    private static final CpuBackend CPU = new CpuBackend(2);

    @AfterAll
    static void close() {
        CPU.close();
    }

    @Test
    void dtypesParseFromTheirNamesAndSayTheirSize() {
        assertEquals(KvCacheDtype.F32, KvCacheDtype.parse("f32"));
        assertEquals(KvCacheDtype.F32, KvCacheDtype.parse("Float32"));
        assertEquals(KvCacheDtype.BF16, KvCacheDtype.parse("bf16"));
        assertEquals(KvCacheDtype.BF16, KvCacheDtype.parse(" BFLOAT16 "));
        assertEquals(4, KvCacheDtype.F32.bytesPerValue());
        assertEquals(2, KvCacheDtype.BF16.bytesPerValue());
        for (String bad : new String[]{"fp16", "", "int8", null}) {
            var e = assertThrows(IllegalArgumentException.class, () -> KvCacheDtype.parse(bad));
            assertTrue(e.getMessage().contains("bf16") && e.getMessage().contains("f32"), e.getMessage());
        }
    }

    @Test
    void holdsExactlyTheRoundedValuesInHalfTheMemory() {
        int width = 37;   // not a multiple of any vector length: tails are exercised
        try (KvCache f32 = CPU.kvCache(2, 3, 4, width); KvCache bf16 = CPU.kvCache(2, 3, 4, width, KvCacheDtype.BF16)) {
            assertEquals(KvCacheDtype.F32, f32.dtype());
            assertEquals(KvCacheDtype.BF16, bf16.dtype());
            assertEquals(4L * width * 2, f32.bytesPerToken());
            assertEquals(2L * width * 2, bf16.bytesPerToken());
            var store = assertInstanceOf(KvRows.Bf16.class, CpuKvCache.of(bf16).layer(1));
            assertEquals(3 * 4 * width, store.values().length, "a short per value");

            CpuActivation rows = randomRows(new SplittableRandom(3), 3, width);
            // ties: 1 + 2^-8 sits halfway between two bf16 values (rounds to the even 1.0); 1 + 3·2^-8 rounds up
            rows.data()[0] = Float.intBitsToFloat(0x3F808000);
            rows.data()[1] = Float.intBitsToFloat(0x3F818000);
            rows.data()[2] = Float.NaN;
            rows.data()[3] = Float.MAX_VALUE;   // rounds past the largest bf16: infinity
            int[] slots = {11, 0, 5};
            CPU.writeKvCache(bf16, 1, rows, slots);
            float[] got = new float[width];
            for (int t = 0; t < slots.length; t++) {
                CpuKvCache.of(bf16).layer(1).read(slots[t] * width, got, 0, width);
                for (int c = 0; c < width; c++) {
                    float want = Floats.bf16ToFloat(Floats.floatToBf16(rows.get(t, c)));
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[c]), "row " + t + " col " + c);
                }
            }
            CpuKvCache.of(bf16).layer(1).read(slots[0] * width, got, 0, 4);
            assertEquals(1.0f, got[0]);
            assertEquals(Float.intBitsToFloat(0x3F820000), got[1]);
            assertTrue(Float.isNaN(got[2]));
            assertEquals(Float.POSITIVE_INFINITY, got[3]);
            CpuKvCache.of(bf16).layer(0).read(slots[0] * width, got, 0, width);
            assertArrayEquals(new float[width], got, "other layers untouched");
        }
    }

    @ParameterizedTest
    @EnumSource(value = MlaMode.class, names = {"ABSORBED", "DECOMPRESSED"})
    void mlaOverBf16EqualsMlaOverPreRoundedF32(MlaMode mode) {
        MlaShape sh = new MlaShape(3, 16, 8, 12, 40, 0.21f);
        SplittableRandom rnd = new SplittableRandom(mode.ordinal());
        AttentionBatch batch = twoSequences();
        try (Arena arena = Arena.ofShared()) {
            CpuWeight kvB = MatmulTest.randomWeight(arena, rnd,
                    sh.numHeads() * (sh.qkNopeHeadDim() + sh.vHeadDim()), sh.kvLoraRank(), DType.BF16);
            CpuActivation q = randomRows(rnd, batch.numTokens(), sh.numHeads() * sh.qkHeadDim());
            float[][] out = new float[2][];
            KvCacheDtype[] dtypes = {KvCacheDtype.BF16, KvCacheDtype.F32};
            CpuActivation rows = randomRows(rnd, 64, sh.cacheWidth());
            for (int i = 0; i < 2; i++) {
                try (KvCache cache = CPU.kvCache(1, 8, 8, sh.cacheWidth(), dtypes[i])) {
                    CPU.writeKvCache(cache, 0, i == 0 ? rows : rounded(rows), identity(64));
                    CpuActivation o = CpuActivation.allocate(batch.numTokens(), sh.numHeads() * sh.vHeadDim());
                    CPU.mlaAttention(q, cache, 0, kvB, sh, batch, mode, o);
                    out[i] = o.toArray();
                }
            }
            assertArrayEquals(out[1], out[0], "bf16 cache = f32 cache of the rounded values, bit for bit");
        }
    }

    @Test
    void gqaOverBf16EqualsGqaOverPreRoundedF32() {
        int heads = 4, kvHeads = 2, headDim = 20;
        SplittableRandom rnd = new SplittableRandom(9);
        AttentionBatch batch = twoSequences();
        CpuActivation q = randomRows(rnd, batch.numTokens(), heads * headDim);
        CpuActivation rows = randomRows(rnd, 64, 2 * kvHeads * headDim);
        float[][] out = new float[2][];
        KvCacheDtype[] dtypes = {KvCacheDtype.BF16, KvCacheDtype.F32};
        for (int i = 0; i < 2; i++) {
            try (KvCache cache = CPU.kvCache(1, 8, 8, 2 * kvHeads * headDim, dtypes[i])) {
                CPU.writeKvCache(cache, 0, i == 0 ? rows : rounded(rows), identity(64));
                CpuActivation o = CpuActivation.allocate(batch.numTokens(), heads * headDim);
                CPU.gqaAttention(q, cache, 0, heads, kvHeads, headDim, 0.3f, batch, o);
                out[i] = o.toArray();
            }
        }
        assertArrayEquals(out[1], out[0]);
    }

    /** A random DeepSeek-V2 and a Llama: prefill then decode steps, logits close and greedy tokens equal. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aModelWithABf16CacheStaysCloseToF32(boolean deepseek) {
        ModelConfig c = deepseek ? RandomModels.deepseekConfig(false, true) : RandomModels.llamaConfig(4, 2);
        try (CausalLM model = RandomModels.model(c, CPU, 5)) {
            float[][][] logits = {greedy(model, KvCacheDtype.F32), greedy(model, KvCacheDtype.BF16)};
            float worst = 0;
            for (int step = 0; step < logits[0].length; step++) {
                assertEquals(Golden.argmax(logits[0][step]), Golden.argmax(logits[1][step]),
                        "greedy token of step " + step);
                worst = Math.max(worst, maxDiff(logits[0][step], logits[1][step]));
            }
            System.out.printf("%s: bf16 vs f32 KV cache, largest logit difference %.2e%n",
                    deepseek ? "DeepSeek-V2" : "Llama", worst);
            assertTrue(worst > 0, "the rounding is visible (else the test proves nothing)");
            assertTrue(worst <= 2e-2, "logits differ by " + worst);
        }
    }

    /** Logits of a prefill and of 4 greedy decode steps after it. */
    private static float[][] greedy(CausalLM model, KvCacheDtype dtype) {
        int[] prompt = {5, 9, 13, 2, 7, 100, 42, 17, 250, 3, 64};
        int[][] table = {{1, 0}};
        float[][] steps = new float[5][];
        try (KvCache cache = model.newKvCache(2, 16, dtype)) {
            steps[0] = model.forward(ForwardBatch.of(new int[][]{prompt}, new int[]{0}, table, 16), cache)[0];
            for (int i = 1; i < steps.length; i++) {
                steps[i] = model.forward(ForwardBatch.of(new int[][]{{Golden.argmax(steps[i - 1])}},
                        new int[]{prompt.length + i - 1}, table, 16), cache)[0];
            }
        }
        return steps;
    }

    static AttentionBatch twoSequences() {
        // sequence 0: 37 cached tokens + a 3-token chunk; sequence 1: a decode token at position 20
        int[][] tables = {{3, 0, 5, 6, 7}, {1, 2, 4}};
        int[] positions = {37, 38, 39, 20};
        int[] slots = new int[positions.length];
        int[] seqOf = {0, 0, 0, 1};
        for (int t = 0; t < positions.length; t++) {
            slots[t] = tables[seqOf[t]][positions[t] / 8] * 8 + positions[t] % 8;
        }
        return new AttentionBatch(new int[]{0, 3, 4}, positions, tables, slots, 8);
    }

    static CpuActivation randomRows(SplittableRandom rnd, int rows, int cols) {
        CpuActivation a = CpuActivation.allocate(rows, cols);
        for (int i = 0; i < a.data().length; i++) {
            a.data()[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    private static CpuActivation rounded(CpuActivation rows) {
        CpuActivation r = CpuActivation.allocate(rows.rows(), rows.cols());
        for (int i = 0; i < r.data().length; i++) {
            r.data()[i] = Floats.bf16ToFloat(Floats.floatToBf16(rows.data()[i]));
        }
        return r;
    }

    private static int[] identity(int n) {
        int[] s = new int[n];
        java.util.Arrays.setAll(s, i -> i);
        return s;
    }

    private static float maxDiff(float[] a, float[] b) {
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }
}

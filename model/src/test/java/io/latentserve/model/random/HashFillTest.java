package io.latentserve.model.random;

import io.latentserve.model.checkpoint.TensorView;
import io.latentserve.model.config.ModelConfig;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HashFillTest {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Vectors from an independent implementation (plain Python integers and struct-packed f32, the way
     * cuda-kernels/bench/hf_peer.py computes them): the same bits in Java, CUDA and PyTorch are what makes
     * the HuggingFace peer run the same weights.
     */
    @Test
    void matchesThePythonReferenceBitForBit() {
        String name = "model.layers.3.mlp.experts.7.up_proj.weight";
        assertEquals(0x77d5c873, HashFill.fnv1a(name));
        HashFill fill = HashFill.forTensor(name, new long[]{1408, 2048}, 42);
        assertEquals(0x77d5c859, fill.seed());
        assertEquals(0x3a2e9c05, HashFill.mix(fill.seed(), 0));
        assertEquals(0x6d8cdbe7, HashFill.mix(fill.seed(), 1));
        assertEquals(0x0418e202, HashFill.mix(fill.seed(), 1000));
        assertEquals(0x3e664623, HashFill.mix(fill.seed(), (int) (2147483648L + 5)));
        short[] expected = {(short) 0xbcab, (short) 0xbbb4, (short) 0x3c22, (short) 0xbd17, (short) 0xbca0};
        long[] at = {0, 1, 2, 1000, 2147483648L + 5};
        for (int i = 0; i < at.length; i++) {
            assertEquals(expected[i], fill.bf16(at[i]), "element " + at[i]);
        }
        HashFill norm = HashFill.forTensor("model.layers.0.input_layernorm.weight", new long[]{2048}, 42);
        assertEquals(0x065014ee, norm.seed());
        assertEquals((short) 0x3f86, norm.bf16(0));
        assertEquals((short) 0x3f95, norm.bf16(5));
    }

    @Test
    void valuesAreUniformAroundTheMeanWithinTheAmplitude() {
        HashFill fill = new HashFill(7, 1f, 0.5f);
        double sum = 0;
        double sumSq = 0;
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            float v = fill.value(i);
            assertTrue(v >= 0.5f && v < 1.5f, "value " + v);
            sum += v;
            sumSq += (v - 1) * (v - 1);
        }
        assertEquals(1.0, sum / n, 0.01);
        assertEquals(0.5 / Math.sqrt(3), Math.sqrt(sumSq / n), 0.01);   // std of U(-a, a) is a/√3
    }

    @Test
    void storeMaterialisesTheSameValuesItDescribes() {
        ModelConfig c = io.latentserve.model.RandomModels.deepseekConfig(false, false);
        try (HashedTensorStore store = new HashedTensorStore(c, 3)) {
            String name = "model.layers.1.self_attn.kv_b_proj.weight";
            TensorView view = store.get(name);
            HashFill fill = store.fillOf(name);
            assertEquals(store.byteSize(name), view.data().byteSize());
            for (long i = 0; i < view.elementCount(); i += 97) {
                assertEquals(fill.bf16(i), view.data().getAtIndex(SHORT_LE, i));
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment seg = arena.allocate(20);
                fill.fillBf16(seg, 10);
                assertEquals(fill.bf16(9), seg.getAtIndex(SHORT_LE, 9));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> HashFill.checkCount((1L << 32) + 1));
    }
}

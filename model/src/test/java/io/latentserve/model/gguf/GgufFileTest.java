package io.latentserve.model.gguf;

import io.latentserve.model.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufFileTest {
    @TempDir
    Path tmp;

    private static Path vocab(String name) {
        return TestData.require("tokenizer").resolve("ggml-vocab-deepseek-" + name + ".gguf");
    }

    @Test
    void readsTheDeepSeekLlmVocabulary() {
        try (GgufFile f = GgufFile.open(vocab("llm"))) {
            assertEquals(3, f.version());
            assertEquals(ByteOrder.LITTLE_ENDIAN, f.byteOrder());
            assertEquals(23, f.keys().size());
            assertEquals("general.architecture", f.keys().iterator().next());
            assertEquals("llama", f.getString("general.architecture"));
            assertEquals("gpt2", f.getString("tokenizer.ggml.model"));
            assertEquals("deepseek-llm", f.getString("tokenizer.ggml.pre"));
            assertEquals(102400, f.getInt("llama.vocab_size"));
            assertEquals(10000.0f, f.getFloat("llama.rope.freq_base"));
            assertEquals(1e-6f, f.getFloat("llama.attention.layer_norm_rms_epsilon"), 1e-12);
            assertEquals(100000, f.getInt("tokenizer.ggml.bos_token_id"));
            assertEquals(100001, f.getInt("tokenizer.ggml.eos_token_id"));
            assertTrue(f.getBoolean("tokenizer.ggml.add_bos_token"));
            String[] tokens = f.getStringArray("tokenizer.ggml.tokens");
            assertEquals(102400, tokens.length);
            assertEquals("!", tokens[0]);
            assertEquals("<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>", tokens[100000]);
            assertEquals("[PAD102399]", tokens[102399]);
            int[] types = f.getIntArray("tokenizer.ggml.token_type");
            assertEquals(102400, types.length);
            assertEquals(3, types[100000]);
            assertEquals(4, types[100014]);
            assertEquals(1, types[99999]);
            String[] merges = f.getStringArray("tokenizer.ggml.merges");
            assertEquals(99757, merges.length);
            assertEquals("\u0120 \u0120", merges[0]);
            assertEquals(1.0f, f.getFloatArray("tokenizer.ggml.token_type")[0]);
            assertTrue(f.tensors().isEmpty());
            assertEquals(32, f.alignment());
        }
    }

    @Test
    void readsTheDeepSeekCoderVocabulary() {
        try (GgufFile f = GgufFile.open(vocab("coder"))) {
            assertEquals("deepseek-coder", f.getString("tokenizer.ggml.pre"));
            assertEquals(32256, f.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(31757, f.getStringArray("tokenizer.ggml.merges").length);
            assertEquals(32013, f.getInt("tokenizer.ggml.bos_token_id"));
            assertEquals("linear", f.getString("llama.rope.scaling.type"));
            assertEquals(4.0, f.getDouble("llama.rope.scaling.factor"));
        }
    }

    @Test
    void wrongTypeAndMissingKeyNameTheFileAndKey() {
        try (GgufFile f = GgufFile.open(vocab("coder"))) {
            GgufException missing = assertThrows(GgufException.class, () -> f.getString("no.such.key"));
            assertTrue(missing.getMessage().contains("no.such.key") && missing.getMessage().contains("coder.gguf"));
            GgufException wrong = assertThrows(GgufException.class, () -> f.getInt("tokenizer.ggml.tokens"));
            assertTrue(wrong.getMessage().contains("tokenizer.ggml.tokens"), wrong.getMessage());
            assertThrows(GgufException.class, () -> f.getStringArray("tokenizer.ggml.token_type"));
            assertThrows(GgufException.class, () -> f.getString("llama.block_count"));
        }
    }

    @Test
    void tensorTableOffsetsAlignmentAndData() throws IOException {
        GgufBuilder b = new GgufBuilder().header(3, 2, 2)
                .kvString("general.architecture", "test")
                .kvU32("general.alignment", 64)
                .tensor("a", GgmlType.F32.id(), 0, 3, 2)
                .tensor("b", GgmlType.Q8_0.id(), 64, 32)
                .pad(64);
        long dataStart = b.size();
        for (int i = 0; i < 6; i++) {
            b.f32(i + 0.5f);
        }
        b.pad(64).raw(new byte[34]);
        Path p = write("t.gguf", b.bytes());
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(64, f.alignment());
            assertEquals(dataStart, f.dataOffset());
            List<GgufTensorInfo> t = f.tensors();
            assertEquals(2, t.size());
            assertEquals("a", t.get(0).name());
            assertEquals(GgmlType.F32, t.get(0).type());
            assertArrayEquals(new long[] {3, 2}, t.get(0).dims());
            assertEquals(6, t.get(0).elementCount());
            assertEquals(24, t.get(0).byteSize());
            assertEquals(34, t.get(1).byteSize());
            assertEquals(64, f.tensor("b").orElseThrow().offset());
            assertEquals(5.5f, f.tensorData(t.get(0)).getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 5));
        }
    }

    @Test
    void bigEndianFilesAreRead() throws IOException {
        byte[] be = new GgufBuilder(ByteOrder.BIG_ENDIAN).header(3, 0, 2)
                .kvString("general.name", "big")
                .kvU32("x", 0x01020304).bytes();
        try (GgufFile f = GgufFile.open(write("be.gguf", be))) {
            assertEquals(ByteOrder.BIG_ENDIAN, f.byteOrder());
            assertEquals("big", f.getString("general.name"));
            assertEquals(0x01020304, f.getInt("x"));
        }
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }
}

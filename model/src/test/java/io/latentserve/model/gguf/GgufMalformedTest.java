package io.latentserve.model.gguf;

import io.latentserve.model.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Truncated and corrupt files end in a GgufException naming the file (and the key), never in another exception. */
class GgufMalformedTest {
    @TempDir
    Path tmp;

    private GgufException rejects(String name, byte[] bytes, String... expectedInMessage) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        GgufException e;
        try {
            GgufFile f = GgufFile.open(p);
            f.close();
            throw new AssertionError(name + " was accepted");
        } catch (GgufException ex) {
            e = ex;
        } catch (RuntimeException other) {
            throw new AssertionError(name + " failed with " + other + " instead of a GgufException", other);
        }
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        for (String s : expectedInMessage) {
            assertTrue(e.getMessage().contains(s), "expected \"" + s + "\" in: " + e.getMessage());
        }
        return e;
    }

    @Test
    void everyTruncationOfTheVocabFilesIsAClearError() throws IOException {
        for (String name : new String[] {"coder", "llm"}) {
            byte[] whole = Files.readAllBytes(TestData.require("tokenizer").resolve("ggml-vocab-deepseek-" + name + ".gguf"));
            TreeSet<Integer> cuts = new TreeSet<>();
            for (int i = 0; i < 160; i++) {
                cuts.add(i);
            }
            Random random = new Random(name.hashCode());
            for (int i = 0; i < 60; i++) {
                cuts.add(random.nextInt(whole.length));
            }
            cuts.add(whole.length - 1);
            for (int cut : cuts) {
                byte[] part = java.util.Arrays.copyOf(whole, cut);
                rejects(name + "-" + cut + ".gguf", part);
            }
        }
    }

    @Test
    void truncationInsideAnArrayNamesTheKey() throws IOException {
        byte[] whole = Files.readAllBytes(TestData.require("tokenizer").resolve("ggml-vocab-deepseek-coder.gguf"));
        rejects("mid.gguf", java.util.Arrays.copyOf(whole, whole.length / 2), "tokenizer.ggml.", "truncated");
        rejects("end.gguf", java.util.Arrays.copyOf(whole, whole.length - 1), "tokenizer.ggml.", "truncated");
    }

    @Test
    void corruptHeaders() throws IOException {
        rejects("empty.gguf", new byte[0], "truncated");
        rejects("magic.gguf", "GGML\3\0\0\0".getBytes(), "not a GGUF file");
        rejects("v1.gguf", new GgufBuilder().header(1, 0, 0).bytes(), "version 1");
        rejects("v99.gguf", new GgufBuilder().header(99, 0, 0).bytes(), "version 99");
        rejects("count.gguf", new GgufBuilder().header(3, 0, Long.MAX_VALUE).bytes(), "metadata count");
        rejects("tensors.gguf", new GgufBuilder().header(3, -1, 0).bytes(), "tensor count");
    }

    @Test
    void corruptMetadata() throws IOException {
        rejects("type.gguf", new GgufBuilder().header(3, 0, 1).str("k.type").u32(77).u32(0).bytes(),
                "k.type", "unknown metadata value type 77");
        rejects("strlen.gguf", new GgufBuilder().header(3, 0, 1).str("k.str").u32(8).u64(1L << 60).bytes(),
                "k.str", "string length");
        rejects("arrlen.gguf", new GgufBuilder().header(3, 0, 1).str("k.arr").u32(9).u32(4).u64(1L << 40).bytes(),
                "k.arr", "array length");
        rejects("nested.gguf", new GgufBuilder().header(3, 0, 1).str("k.nest").u32(9).u32(9).u64(1).bytes(),
                "k.nest", "nested");
        rejects("bool.gguf", new GgufBuilder().header(3, 0, 1).str("k.bool").u32(7).u8(2).bytes(), "k.bool", "bool");
        rejects("dup.gguf", new GgufBuilder().header(3, 0, 2).kvU32("k.dup", 1).kvU32("k.dup", 2).bytes(), "duplicate");
        rejects("align.gguf", new GgufBuilder().header(3, 0, 1).kvU32("general.alignment", 24).bytes(), "general.alignment");
    }

    @Test
    void corruptTensorTable() throws IOException {
        rejects("dims.gguf", new GgufBuilder().header(3, 1, 0).tensor("w", 0, 0, 1, 1, 1, 1, 1).bytes(), "tensor info w", "dimensions");
        rejects("offset.gguf", new GgufBuilder().header(3, 1, 0).tensor("w", 0, 4, 8).pad(32).raw(new byte[64]).bytes(),
                "tensor info w", "alignment");
        rejects("blocks.gguf", new GgufBuilder().header(3, 1, 0).tensor("w", GgmlType.Q4_0.id(), 0, 33).pad(32)
                .raw(new byte[64]).bytes(), "tensor info w", "blocks");
        rejects("data.gguf", new GgufBuilder().header(3, 1, 0).tensor("w", 0, 0, 16).pad(32).raw(new byte[63]).bytes(),
                "tensor w", "past the end");
        rejects("dupname.gguf", new GgufBuilder().header(3, 2, 0).tensor("w", 0, 0, 1).tensor("w", 0, 32, 1).bytes(),
                "duplicate tensor name w");
    }

    @Test
    void unknownTensorTypesAreListedButHaveNoData() throws IOException {
        Path p = tmp.resolve("unknown.gguf");
        Files.write(p, new GgufBuilder().header(3, 1, 0).tensor("w", 1234, 0, 8).pad(32).bytes());
        try (GgufFile f = GgufFile.open(p)) {
            assertTrue(f.tensors().getFirst().type() == null);
            GgufException e = assertThrows(GgufException.class, () -> f.tensorData(f.tensors().getFirst()));
            assertTrue(e.getMessage().contains("w"));
        } catch (GgufException e) {
            fail(e);
        }
    }
}

package io.latentserve.model.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Format variants of tokenizer.json, on a tiny synthetic vocabulary. */
class TokenizerJsonLoaderTest {
    @TempDir
    Path tmp;

    private static String tokenizer(String merges, String normalizer) {
        return """
                {"version": "1.0",
                 "added_tokens": [
                   {"id": 10, "content": "<s>", "special": true, "normalized": false, "lstrip": false, "rstrip": false},
                   {"id": 11, "content": "<x>", "special": false, "normalized": true, "lstrip": true, "rstrip": false}],
                 "normalizer": %s,
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
                 "post_processor": {"type": "TemplateProcessing",
                   "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                   "special_tokens": {"<s>": {"id": "<s>", "ids": [10], "tokens": ["<s>"]}}},
                 "decoder": {"type": "ByteLevel"},
                 "model": {"type": "BPE", "dropout": null, "unk_token": null, "byte_fallback": false,
                   "vocab": {"a": 0, "b": 1, "c": 2, "\u0120": 3, "ab": 4, "abc": 5, "x": 6},
                   "merges": %s}}
                """.formatted(normalizer, merges);
    }

    private Path write(String name, String content) throws IOException {
        Path p = tmp.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    @Test
    void mergesAsStringsOrPairsGiveTheSameTokenizer() throws IOException {
        BpeTokenizer strings = BpeTokenizer.fromTokenizerJson(write("s.json", tokenizer("[\"a b\", \"ab c\"]", "null")), null);
        BpeTokenizer pairs = BpeTokenizer.fromTokenizerJson(write("p.json", tokenizer("[[\"a\", \"b\"], [\"ab\", \"c\"]]", "null")), null);
        for (BpeTokenizer t : new BpeTokenizer[] {strings, pairs}) {
            assertArrayEquals(new int[] {5, 3, 4}, t.encode("abc ab"));
            assertEquals(2, t.mergeCount());
            // Without tokenizer_config.json, BOS comes from the post-processor.
            assertEquals(10, t.bosId());
            assertTrue(t.addBosByDefault());
            assertEquals(-1, t.eosId());
            assertArrayEquals(new int[] {10, 5}, t.encode("abc", true));
            assertEquals(12, t.vocabSize());
        }
    }

    @Test
    void addedTokensWithLstripSwallowTheSpaceBefore() throws IOException {
        BpeTokenizer t = BpeTokenizer.fromTokenizerJson(write("t.json", tokenizer("[\"a b\"]", "{\"type\": \"Sequence\", \"normalizers\": []}")), null);
        assertArrayEquals(new int[] {6, 11, 6}, t.encode("x <x>x"));
        assertEquals("x<x>x", t.decode(new int[] {6, 11, 6}));
        assertArrayEquals(new int[] {10, 0}, t.encode("<s>a"));
        assertTrue(t.isSpecial(10));
        assertFalse(t.isSpecial(11));
        assertEquals(11, t.tokenId("<x>").orElseThrow());
    }

    @Test
    void configOverridesBosEosAndAddBos() throws IOException {
        Path json = write("t.json", tokenizer("[\"a b\"]", "null"));
        Path config = write("c.json", "{\"add_bos_token\": false, \"bos_token\": {\"content\": \"<s>\"}, \"eos_token\": \"<x>\"}");
        BpeTokenizer t = BpeTokenizer.fromTokenizerJson(json, config);
        assertFalse(t.addBosByDefault());
        assertEquals(10, t.bosId());
        assertEquals(11, t.eosId());
        Path bad = write("bad.json", "{\"eos_token\": \"</nope>\"}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> BpeTokenizer.fromTokenizerJson(json, bad));
        assertTrue(e.getMessage().contains("bad.json") && e.getMessage().contains("</nope>"), e.getMessage());
    }

    @Test
    void unsupportedPartsAreRefusedByName() throws IOException {
        Path nfc = write("nfc.json", tokenizer("[]", "{\"type\": \"NFC\"}"));
        TokenizerException e = assertThrows(TokenizerException.class, () -> BpeTokenizer.fromTokenizerJson(nfc, null));
        assertTrue(e.getMessage().contains("nfc.json") && e.getMessage().contains("normalizer NFC"), e.getMessage());
        Path merge = write("merge.json", tokenizer("[\"a q\"]", "null"));
        e = assertThrows(TokenizerException.class, () -> BpeTokenizer.fromTokenizerJson(merge, null));
        assertTrue(e.getMessage().contains("merge #0") && e.getMessage().contains("\"q\""), e.getMessage());
        e = assertThrows(TokenizerException.class, () -> BpeTokenizer.fromTokenizerJson(tmp.resolve("missing.json"), null));
        assertTrue(e.getMessage().contains("missing.json"), e.getMessage());
    }
}

package io.latentserve.model.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BpeTokenizerTest {

    @ParameterizedTest
    @ValueSource(strings = {"json", "gguf"})
    void helloWorldWithBos(String source) {
        assertArrayEquals(new int[] {100000, 17464, 1843}, TestTokenizers.get("llm", source).encode("Hello world", true));
        assertArrayEquals(new int[] {32013, 17535, 1835}, TestTokenizers.get("coder", source).encode("Hello world", true));
    }

    @ParameterizedTest
    @ValueSource(strings = {"json", "gguf"})
    void latinOneAddedTokensAreMatchedInRawText(String source) {
        BpeTokenizer llm = TestTokenizers.get("llm", source);
        assertArrayEquals(new int[] {37, 100014, 71, 6245}, llm.encode("Führer"));
        assertEquals("Führer", llm.decode(new int[] {37, 100014, 71, 6245}));
        assertEquals("ü", llm.tokenText(100014));
        assertFalse(llm.isSpecial(100014));
    }

    @ParameterizedTest
    @ValueSource(strings = {"json", "gguf"})
    void specialTokensAndIdsWithoutToken(String source) {
        BpeTokenizer llm = TestTokenizers.get("llm", source);
        assertEquals(100000, llm.bosId());
        assertEquals(100001, llm.eosId());
        assertTrue(llm.addBosByDefault());
        assertEquals(100015, llm.vocabSize());
        assertTrue(llm.isSpecial(100000));
        assertEquals(ChatTemplate.DEEPSEEK_BOS, llm.tokenText(100000));
        assertEquals(100000, llm.tokenId(ChatTemplate.DEEPSEEK_BOS).orElseThrow());
        assertEquals(1843, llm.tokenId("\u0120world").orElseThrow());
        assertTrue(llm.tokenId("[PAD100015]").isEmpty());
        // Padding ids (the model's 102400 rows) have no token and decode to nothing.
        assertEquals("", llm.tokenText(100015));
        assertEquals("", llm.tokenText(102399));
        assertEquals(0, llm.tokenBytes(102399).length);
        assertEquals("ab", llm.decode(new int[] {64, 100500, 65}));
        assertEquals("", llm.tokenText(-1));
        // Special tokens stay in a decode unless skipped.
        int[] ids = llm.encode("Hi", true);
        assertEquals(ChatTemplate.DEEPSEEK_BOS + "Hi", llm.decode(ids));
        assertEquals("Hi", llm.decode(ids, true));
        BpeTokenizer coder = TestTokenizers.get("coder", source);
        assertEquals(32022, coder.vocabSize());
        assertEquals(32013, coder.bosId());
        assertEquals(32014, coder.eosId());
    }

    @Test
    void specialTokenTextInsideInputBecomesOneId() {
        BpeTokenizer llm = TestTokenizers.llm();
        int[] ids = llm.encode("a" + ChatTemplate.DEEPSEEK_EOS + "b");
        assertArrayEquals(new int[] {64, 100001, 65}, ids);
    }

    @Test
    void tokenBytesUndoTheByteLevelAlphabet() {
        BpeTokenizer llm = TestTokenizers.llm();
        assertArrayEquals(" world".getBytes(StandardCharsets.UTF_8), llm.tokenBytes(1843));
        assertEquals(" world", llm.tokenText(1843));
        assertEquals("\u0120world", llm.rawToken(1843));
    }

    @Test
    void jsonAndGgufAgreeOnRandomText() {
        Random random = new Random(7);
        String alphabet = "abcXYZ éüßñ 中文字 한국어 Привет ½٣𝐀𐐀 😀👍🏽 \n\t\r  123 ,.!?()[]{}'\"";
        int[] cps = alphabet.codePoints().toArray();
        for (String name : new String[] {"llm", "coder"}) {
            BpeTokenizer json = TestTokenizers.get(name, "json");
            BpeTokenizer gguf = TestTokenizers.get(name, "gguf");
            for (int i = 0; i < 300; i++) {
                StringBuilder sb = new StringBuilder();
                int n = random.nextInt(40);
                for (int k = 0; k < n; k++) {
                    sb.appendCodePoint(cps[random.nextInt(cps.length)]);
                }
                String text = sb.toString();
                assertArrayEquals(json.encode(text), gguf.encode(text), text);
                assertEquals(text, json.decode(json.encode(text)));
            }
        }
    }

    @Test
    void hundredKilobytesEncodeWellUnderASecond() {
        BpeTokenizer llm = TestTokenizers.llm();
        StringBuilder sb = new StringBuilder();
        Random random = new Random(3);
        String[] words = {"the", "lighthouse", "keeper", "climbed", "Führer", "naïve", "中文", "测试", "12345", "½",
                "def", "return", "x=1;", "😀", "    ", "\n", "Привет", "κόσμε", "internationalization"};
        while (sb.length() < 100_000) {
            sb.append(words[random.nextInt(words.length)]).append(random.nextInt(4) == 0 ? "" : " ");
        }
        String text = sb.toString();
        // Pathological pieces: a long whitespace run before a non-space, and one giant word.
        String spaces = " ".repeat(50_000) + "1";
        String word = "a".repeat(50_000);
        long t0 = System.nanoTime();
        int[] ids = llm.encode(text);
        int[] idsSpaces = llm.encode(spaces);
        int[] idsWord = llm.encode(word);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 1000, "encoding 200 KB took " + ms + " ms");
        assertEquals(text, llm.decode(ids));
        assertEquals(spaces, llm.decode(idsSpaces));
        assertEquals(word, llm.decode(idsWord));
    }
}

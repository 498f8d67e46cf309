package io.latentserve.model.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IncrementalDetokenizerTest {

    /** Streams ids one at a time and checks every delta is whole text and all deltas add up to decode(ids). */
    private static List<String> stream(Tokenizer tok, int[] ids, boolean skipSpecial) {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tok, skipSpecial);
        List<String> deltas = new ArrayList<>();
        for (int id : ids) {
            deltas.add(detok.add(id));
        }
        deltas.add(detok.flush());
        assertFalse(detok.hasPending());
        assertEquals(tok.decode(ids, skipSpecial), String.join("", deltas));
        return deltas;
    }

    private static boolean hasLoneSurrogateOrReplacement(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\uFFFD') {
                return true;
            }
            if (Character.isHighSurrogate(c) && (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1)))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void multiByteCharactersSplitAcrossTokensAreHeldBackNotBroken() {
        BpeTokenizer llm = TestTokenizers.llm();
        for (String text : new String[] {"😀👍🏽 emoji 🚀 (normal) 😶‍🌫️", "中文测试，我想在apple工作1314151天～",
                "naïve café Führer Ærøskøbing ŽŁ", "ស្វាគមន៍", "Привет, κόσμε!"}) {
            int[] ids = llm.encode(text);
            List<String> deltas = stream(llm, ids, false);
            assertEquals(text, String.join("", deltas));
            for (String d : deltas) {
                assertFalse(hasLoneSurrogateOrReplacement(d), () -> "delta " + d + " of " + text);
            }
        }
    }

    @Test
    void anEmojiSpreadOverByteTokensComesOutOnce() {
        BpeTokenizer llm = TestTokenizers.llm();
        byte[] rocket = "🚀".getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[rocket.length];
        for (int i = 0; i < rocket.length; i++) {
            ids[i] = llm.tokenId(String.valueOf(ByteLevel.charOf(rocket[i]))).orElseThrow();
        }
        List<String> deltas = stream(llm, ids, false);
        assertEquals(List.of("", "", "", "🚀", ""), deltas);
    }

    @Test
    void unfinishedCharacterAtTheEndIsFlushedAsReplacement() {
        BpeTokenizer llm = TestTokenizers.llm();
        byte[] rocket = "🚀".getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[2];
        for (int i = 0; i < 2; i++) {
            ids[i] = llm.tokenId(String.valueOf(ByteLevel.charOf(rocket[i]))).orElseThrow();
        }
        IncrementalDetokenizer detok = new IncrementalDetokenizer(llm);
        assertEquals("", detok.add(ids[0]));
        assertEquals("", detok.add(ids[1]));
        assertTrue(detok.hasPending());
        assertEquals(llm.decode(ids), detok.flush());
        assertEquals("\uFFFD", llm.decode(ids));
    }

    @Test
    void specialTokensAndPaddingIds() {
        BpeTokenizer llm = TestTokenizers.llm();
        int[] ids = {100000, 17464, 100015, 1843, 100001, 102399};
        assertEquals(ChatTemplate.DEEPSEEK_BOS + "Hello world" + ChatTemplate.DEEPSEEK_EOS, String.join("", stream(llm, ids, false)));
        assertEquals("Hello world", String.join("", stream(llm, ids, true)));
    }

    @Test
    void randomIdSequencesMatchAFullDecode() {
        Random random = new Random(11);
        for (String name : new String[] {"llm", "coder"}) {
            BpeTokenizer tok = TestTokenizers.get(name, "json");
            for (int trial = 0; trial < 2000; trial++) {
                int[] ids = new int[random.nextInt(12)];
                for (int i = 0; i < ids.length; i++) {
                    // Mostly single-byte tokens, where broken UTF-8 is likely, plus any id at all.
                    ids[i] = random.nextBoolean() ? random.nextInt(256) : random.nextInt(tok.vocabSize() + 50);
                }
                stream(tok, ids, random.nextBoolean());
            }
        }
    }

    @Test
    void randomBytesMatchAFullDecode() {
        // Every byte as its own token: the hold-back rule alone decides what is emitted.
        BpeTokenizer llm = TestTokenizers.llm();
        int[] byteIds = new int[256];
        for (int b = 0; b < 256; b++) {
            String c = String.valueOf(ByteLevel.charOf(b));
            byteIds[b] = llm.tokenId(c).orElse(-1);
        }
        Random random = new Random(5);
        int[] interesting = {0x41, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC2, 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4};
        for (int trial = 0; trial < 20000; trial++) {
            int[] ids = new int[1 + random.nextInt(8)];
            for (int i = 0; i < ids.length; i++) {
                int b = interesting[random.nextInt(interesting.length)];
                ids[i] = byteIds[b];
            }
            stream(llm, ids, false);
        }
    }
}

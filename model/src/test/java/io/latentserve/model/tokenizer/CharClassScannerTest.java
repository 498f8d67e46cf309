package io.latentserve.model.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The fast class scanner must split exactly as java.util.regex does with the same pattern. */
class CharClassScannerTest {
    private static final String[] PATTERNS = {
        "[\r\n]", DeepSeekPreTokenizers.LLM_LETTERS_REGEX, DeepSeekPreTokenizers.PUNCTUATION_REGEX, "\\s+$",
        DeepSeekPreTokenizers.CJK_REGEX, "\\s?\\p{L}+", "\\s?\\p{P}+", "\\p{N}", "\\s?[a \n]+$", "[ab]$",
        "\\s?[\\x{1F600}-\\x{1F64F}a]+", "\\p{^L}+", "\\s?\\h+"};
    private static final int[] ALPHABET = ("aAbZ é中文한 \u3000\u00A0\t\n\r.,!！，-½1٣😀😁𐐀\uD83A\uDD00Ǆ")
            .codePoints().toArray();

    private static List<String> split(PreTokenizer p, String text) {
        List<String> out = new ArrayList<>();
        p.split(text, out);
        return out;
    }

    @Test
    void agreesWithJavaRegexOnRandomText() {
        Random random = new Random(42);
        for (String hf : PATTERNS) {
            assertNotNull(CharClassScanner.tryCompile(HfRegex.translate(hf), HfRegex.FLAGS), hf);
            PreTokenizer fast = SplitPreTokenizer.regex(hf, SplitBehavior.ISOLATED, false);
            PreTokenizer slow = SplitPreTokenizer.javaRegex(HfRegex.compile(hf), SplitBehavior.ISOLATED, false);
            for (int trial = 0; trial < 3000; trial++) {
                StringBuilder sb = new StringBuilder();
                int n = random.nextInt(14);
                for (int i = 0; i < n; i++) {
                    sb.appendCodePoint(ALPHABET[random.nextInt(ALPHABET.length)]);
                }
                if (random.nextInt(10) == 0) {
                    sb.append('\uD800'); // a lone surrogate
                }
                String text = sb.toString();
                assertEquals(split(slow, text), split(fast, text), () -> hf + " on \"" + text + "\"");
            }
        }
    }

    @Test
    void otherShapesUseJavaRegex() {
        for (String p : new String[] {"'s|'t", "\\s+(?!\\S)", "[a][b]", "[a&&b]", "a+", "\\s*[a]+", "(?<!\\s)\\s+$"}) {
            assertNull(CharClassScanner.tryCompile(p, HfRegex.FLAGS), p);
        }
    }
}

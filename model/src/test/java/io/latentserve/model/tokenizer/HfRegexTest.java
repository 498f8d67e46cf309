package io.latentserve.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The regex semantics the pre-tokenizers rely on, tested apart from the vocabulary vectors. */
class HfRegexTest {

    private static List<String> matches(String hfPattern, String text) {
        Matcher m = HfRegex.compile(hfPattern).matcher(text);
        List<String> out = new ArrayList<>();
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    private static List<String> pieces(PreTokenizer p, String text) {
        List<String> out = new ArrayList<>();
        p.split(text, out);
        return out;
    }

    @Test
    void backslashSIsUnicodeWhitespace() {
        // U+3000 ideographic space, U+00A0 no-break space, U+2003 em space, U+0085 next line are all White_Space.
        for (String ws : new String[] {"\u3000", "\u00A0", "\u2003", "\u0085", "\t", " "}) {
            assertEquals(List.of(ws + "word"), matches("\\s?\\p{L}+", ws + "word"), "U+" + Integer.toHexString(ws.charAt(0)));
        }
        assertEquals(List.of("\u200Bword"), matches("\\s?[\u200B]?\\p{L}+", "\u200Bword")); // ZWSP is not \s
        assertFalse(HfRegex.compile("\\s").matcher("\u200B").find());
    }

    @Test
    void letterAndNumberAndPunctuationCategories() {
        assertEquals(List.of("κόσμε", " 中文", " Привет"), matches("\\s?\\p{L}+", "κόσμε 中文 Привет"));
        assertEquals(List.of("½", "٣", "4", "Ⅻ"), matches("\\p{N}", "½٣4Ⅻ"));
        assertEquals(List.of("¿", "«", "»", "、"), matches("\\p{P}", "¿«»、+$"));
        assertEquals(List.of("a", "b"), matches("\\p{^N}", "a1b"));
        assertEquals(List.of("1"), matches("\\P{L}", "a1b"));
        assertEquals(List.of("Ab", "9f"), matches("\\h\\h", "Ab9fxz"));
    }

    @Test
    void codePointsAboveTheBmpAreSingleCharacters() {
        // U+1D400 MATHEMATICAL BOLD CAPITAL A is a letter; U+10400 DESERET CAPITAL LONG I is in LETTERS;
        // U+1F600 is neither.
        assertEquals(List.of("x\uD835\uDC00y"), matches("\\p{L}+", "x\uD835\uDC00y\uD83D\uDE00"));
        String letters = DeepSeekPreTokenizers.LLM_LETTERS_REGEX;
        assertEquals(List.of("\uD801\uDC00\uD801\uDC4F", " \uD83A\uDD00"),
                matches(letters, "\uD801\uDC00\uD801\uDC4F\uD83D\uDE00 \uD83A\uDD00"));
        assertEquals(List.of("\uD83D\uDE00"), matches("[\\x{1F600}-\\x{1F64F}]", "a\uD83D\uDE00b"));
    }

    @Test
    void dollarIsTheEndOfThePiece() {
        assertEquals(List.of("  "), matches("\\s+$", "ab  "));
        assertEquals(List.of(), matches("\\s+$", "  ab"));
        assertEquals(List.of("\u3000 "), matches("\\s+$", "a \u3000b\u3000 "));
        // Oniguruma's $ is also the end of a line; pre-token pieces never hold a '\n' before \s+$ runs anyway.
        assertEquals(List.of(" \n "), matches("\\s+$", "a \n "));
        assertTrue(HfRegex.compile("a$").matcher("a\nb").find());
        // The look-behind speed-up keeps the leftmost match.
        assertEquals(List.of("   "), matches("\\s+$", "x   "));
    }

    @Test
    void letterClassIsTheOneInTheTokenizerFile() {
        JsonNode root = TokenizerJsonLoader.read(TestTokenizers.dir().resolve("deepseek-llm.tokenizer.json"));
        String fromFile = root.path("pre_tokenizer").path("pretokenizers").get(1).path("pattern").path("Regex").asText();
        Matcher esc = Pattern.compile("\\\\x\\{([0-9A-F]+)\\}").matcher(DeepSeekPreTokenizers.LLM_LETTERS_REGEX);
        StringBuilder unescaped = new StringBuilder();
        while (esc.find()) {
            esc.appendReplacement(unescaped, Matcher.quoteReplacement(Character.toString(Integer.parseInt(esc.group(1), 16))));
        }
        esc.appendTail(unescaped);
        assertEquals(fromFile, unescaped.toString());
        // The KELVIN SIGN range must not have become 'K'-U+212D, which would swallow CJK.
        assertEquals(List.of("\u212A\u212B"), matches(DeepSeekPreTokenizers.LLM_LETTERS_REGEX, "\u212A\u212B中"));
        assertEquals(List.of(), matches(DeepSeekPreTokenizers.LLM_LETTERS_REGEX, "中文"));
    }

    @Test
    void deepSeekLlmPiecesFollowEachStepInOrder() {
        PreTokenizer llm = DeepSeekPreTokenizers.llm();
        assertEquals(List.of("ied", " ", "4", " ", "½", " months"), pieces(llm, "ied 4 ½ months"));
        assertEquals(List.of("Hello", ",", " world", "!", "\n", "\n", "  "), pieces(llm, "Hello, world!\n\n  "));
        assertEquals(List.of("中文测试", "ok"), pieces(llm, "中文测试ok"));
        assertEquals(List.of("x", "=", "1", "2", ";"), pieces(DeepSeekPreTokenizers.coder(), "x=12;"));
    }

    @Test
    void splitBehaviorsMatchHuggingFaceDocs() {
        String text = "the-final--countdown";
        assertEquals(List.of("the", "final", "countdown"), pieces(SplitPreTokenizer.literal("-", SplitBehavior.REMOVED, false), text));
        assertEquals(List.of("the", "-", "final", "-", "-", "countdown"),
                pieces(SplitPreTokenizer.literal("-", SplitBehavior.ISOLATED, false), text));
        assertEquals(List.of("the-", "final-", "-", "countdown"),
                pieces(SplitPreTokenizer.literal("-", SplitBehavior.MERGED_WITH_PREVIOUS, false), text));
        assertEquals(List.of("the", "-final", "-", "-countdown"),
                pieces(SplitPreTokenizer.literal("-", SplitBehavior.MERGED_WITH_NEXT, false), text));
        assertEquals(List.of("the", "-", "final", "--", "countdown"),
                pieces(SplitPreTokenizer.literal("-", SplitBehavior.CONTIGUOUS, false), text));
        // invert: the words become the gaps and the dashes the matches, so Removed drops the dashes.
        assertEquals(List.of("the", "final", "countdown"),
                pieces(SplitPreTokenizer.regex("\\p{L}+", SplitBehavior.REMOVED, true), text));
        assertEquals(List.of("the", "-final", "--countdown"),
                pieces(SplitPreTokenizer.regex("-+", SplitBehavior.MERGED_WITH_PREVIOUS, true), text));
    }

    @Test
    void digitsSplitEveryUnicodeNumber() {
        assertEquals(List.of("a", "1", "2", "½", "b", "٣"), pieces(SplitPreTokenizer.digits(true), "a12½b٣"));
        assertEquals(List.of("a", "12½", "b", "٣"), pieces(SplitPreTokenizer.digits(false), "a12½b٣"));
        assertTrue(SplitPreTokenizer.isNumeric('Ⅻ'));
        assertFalse(SplitPreTokenizer.isNumeric('a'));
    }

    @Test
    void byteLevelPrefixSpaceAndGpt2Regex() {
        assertEquals(List.of(" Hello", "'s", " world", "  ", " !"),
                pieces(new ByteLevelPreTokenizer(true, true), "Hello's world   !"));
        assertEquals(List.of(" x"), pieces(new ByteLevelPreTokenizer(true, false), "x"));
        assertEquals(List.of(" x"), pieces(new ByteLevelPreTokenizer(true, false), " x"));
    }
}

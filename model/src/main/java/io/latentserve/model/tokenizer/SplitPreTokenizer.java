package io.latentserve.model.tokenizer;

import java.util.List;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A HuggingFace Split step (and Digits, which is a Split on number characters): finds the matches in a piece,
 * lists matches and gaps in order, optionally swaps the two (invert), and lets the behavior cut the pieces.
 */
final class SplitPreTokenizer implements PreTokenizer {

    /** Finds the matches of one piece, appending (start, end, 1) triples with gaps filled in as (start, end, 0). */
    private interface Finder {
        void find(String piece, IntList spans);
    }

    private final Finder finder;
    private final SplitBehavior behavior;
    private final boolean invert;

    private SplitPreTokenizer(Finder finder, SplitBehavior behavior, boolean invert) {
        this.finder = finder;
        this.behavior = behavior;
        this.invert = invert;
    }

    /** Split on a regex (HuggingFace / Oniguruma syntax). */
    static SplitPreTokenizer regex(String hfPattern, SplitBehavior behavior, boolean invert) {
        CharClassScanner fast = CharClassScanner.tryCompile(HfRegex.translate(hfPattern), HfRegex.FLAGS);
        if (fast != null) {
            return new SplitPreTokenizer((piece, spans) -> {
                IntList found = new IntList(8);
                fast.findAll(piece, found);
                int prev = 0;
                for (int i = 0; i < found.size(); i += 2) {
                    span(spans, prev, found.get(i), 0);
                    span(spans, found.get(i), found.get(i + 1), 1);
                    prev = found.get(i + 1);
                }
                span(spans, prev, piece.length(), 0);
            }, behavior, invert);
        }
        return javaRegex(HfRegex.compile(hfPattern), behavior, invert);
    }

    /** Split on a regex with java.util.regex (the general path; {@link #regex} prefers a faster one). */
    static SplitPreTokenizer javaRegex(Pattern pattern, SplitBehavior behavior, boolean invert) {
        return new SplitPreTokenizer((piece, spans) -> {
            Matcher m = pattern.matcher(piece);
            int prev = 0;
            while (m.find()) {
                if (m.end() == m.start()) {
                    continue; // empty matches cut nothing
                }
                span(spans, prev, m.start(), 0);
                span(spans, m.start(), m.end(), 1);
                prev = m.end();
            }
            span(spans, prev, piece.length(), 0);
        }, behavior, invert);
    }

    /** Split on a literal string. */
    static SplitPreTokenizer literal(String text, SplitBehavior behavior, boolean invert) {
        return regex(Pattern.quote(text), behavior, invert);
    }

    /**
     * HuggingFace Digits: every Unicode number character (general categories Nd, Nl and No, as Rust's
     * char::is_numeric, so '½' too) is a match; individual digits stay apart, otherwise runs of them join.
     */
    static SplitPreTokenizer digits(boolean individualDigits) {
        return chars(SplitPreTokenizer::isNumeric, individualDigits ? SplitBehavior.ISOLATED : SplitBehavior.CONTIGUOUS);
    }

    static boolean isNumeric(int cp) {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** Each code point that satisfies {@code test} is a match of its own. */
    static SplitPreTokenizer chars(IntPredicate test, SplitBehavior behavior) {
        return new SplitPreTokenizer((piece, spans) -> {
            int prev = 0;
            for (int i = 0; i < piece.length(); ) {
                int cp = piece.codePointAt(i);
                int next = i + Character.charCount(cp);
                if (test.test(cp)) {
                    span(spans, prev, i, 0);
                    span(spans, i, next, 1);
                    prev = next;
                }
                i = next;
            }
            span(spans, prev, piece.length(), 0);
        }, behavior, false);
    }

    private static void span(IntList spans, int start, int end, int isMatch) {
        if (end > start) {
            spans.add(start);
            spans.add(end);
            spans.add(isMatch);
        }
    }

    @Override
    public void split(String piece, List<String> out) {
        if (piece.isEmpty()) {
            return;
        }
        IntList spans = new IntList(16);
        finder.find(piece, spans);
        if (invert) {
            for (int i = 2; i < spans.size(); i += 3) {
                spans.set(i, 1 - spans.get(i));
            }
        }
        behavior.apply(piece, spans, out);
    }
}

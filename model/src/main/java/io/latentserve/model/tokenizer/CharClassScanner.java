package io.latentserve.model.tokenizer;

import java.util.BitSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A fast matcher for the regex shape most byte-level pre-tokenizer steps have: {@code [\s?]CLASS[+][$]}, e.g.
 * {@code \s?[A-Za-z...]+}, {@code [\r\n]}, {@code \s+$}. java.util.regex tests a class of 150 ranges by walking a
 * chain of 150 predicates per character, which made these steps the bulk of encoding time.
 * <p>
 * The class itself is still decided by java.util.regex, so the meaning cannot drift: its verdict for every BMP
 * character is computed once into a bit set; characters above U+FFFF are asked on demand and remembered. The
 * scan reproduces leftmost-first, greedy matching of the shape, and {@code $} as MULTILINE + UNIX_LINES reads it
 * (before a '\n', or at the end).
 */
final class CharClassScanner {
    /** Java's \s under UNICODE_CHARACTER_CLASS (White_Space: all in the BMP), for the optional leading space. */
    private static final BitSet SPACE = new BitSet(0x10000);

    static {
        bmpTable(Pattern.compile("\\s", HfRegex.FLAGS), SPACE);
    }

    private final BitSet bmp = new BitSet(0x10000);
    private final Pattern classPattern;
    private final ConcurrentHashMap<Integer, Boolean> supplementary = new ConcurrentHashMap<>();
    private final boolean optionalSpace;
    private final boolean plus;
    private final boolean dollar;

    private CharClassScanner(Pattern classPattern, boolean optionalSpace, boolean plus, boolean dollar) {
        this.classPattern = classPattern;
        this.optionalSpace = optionalSpace;
        this.plus = plus;
        this.dollar = dollar;
        bmpTable(classPattern, bmp);
    }

    /** Sets the bit of every BMP character (surrogates aside) that {@code singleClass} matches. */
    private static void bmpTable(Pattern singleClass, BitSet bits) {
        StringBuilder all = new StringBuilder(0x10000);
        for (int c = 0; c < 0x10000; c++) {
            all.append(Character.isSurrogate((char) c) ? '\u0000' : (char) c);
        }
        Matcher m = singleClass.matcher(all);
        while (m.find()) {
            if (!Character.isSurrogate((char) m.start())) {
                bits.set(m.start());
            }
        }
    }

    /** A scanner for a translated (Java) pattern of the shape {@code [\s?]CLASS[+][$]}, or null for other shapes. */
    static CharClassScanner tryCompile(String javaPattern, int flags) {
        String p = javaPattern;
        boolean optionalSpace = p.startsWith("\\s?");
        if (optionalSpace) {
            p = p.substring(3);
        }
        boolean dollar = p.endsWith("$") && !p.endsWith("\\$");
        if (dollar) {
            p = p.substring(0, p.length() - 1);
        }
        boolean plus = p.endsWith("+") && !p.endsWith("\\+") && !p.endsWith("++");
        if (plus) {
            p = p.substring(0, p.length() - 1);
        }
        if (!isSingleClass(p)) {
            return null;
        }
        try {
            return new CharClassScanner(Pattern.compile(p, flags), optionalSpace, plus, dollar);
        } catch (PatternSyntaxException e) {
            return null; // the general path reports it
        }
    }

    /** Whether {@code p} is one bracket class or one class escape (\s, \p{..}, ...), and nothing else. */
    private static boolean isSingleClass(String p) {
        if (p.matches("\\\\[sSdDwW]") || p.matches("\\\\[pP]\\{[A-Za-z_=]+\\}")) {
            return true;
        }
        if (!p.startsWith("[") || !p.endsWith("]")) {
            return false;
        }
        int depth = 0;
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '[') {
                depth++;
            } else if (c == ']' && --depth == 0 && i != p.length() - 1) {
                return false; // two classes side by side
            } else if (c == '&' && i + 1 < p.length() && p.charAt(i + 1) == '&') {
                return false; // intersections: leave them to java.util.regex
            }
        }
        return depth == 0;
    }

    private boolean inClass(int cp) {
        if (cp < 0x10000 && !Character.isSurrogate((char) cp)) {
            return bmp.get(cp);
        }
        return supplementary.computeIfAbsent(cp, c -> classPattern.matcher(Character.toString(c)).matches());
    }

    /** Appends the matches in {@code s} as (start, end) pairs. */
    void findAll(String s, IntList out) {
        int n = s.length();
        int i = 0;
        while (i < n) {
            int cp = s.codePointAt(i);
            int afterFirst = i + Character.charCount(cp);
            int end = -1;
            int runEnd = -1;
            if (optionalSpace && isSpace(cp) && afterFirst < n) {
                runEnd = run(s, afterFirst);
                end = accept(s, afterFirst, runEnd);
            }
            if (end < 0) {
                int r = run(s, i);
                runEnd = Math.max(runEnd, r);
                end = accept(s, i, r);
            }
            if (end > i) {
                out.add(i);
                out.add(end);
                i = end;
            } else {
                // A failed start inside a class run fails for every later start in that run too ($ case).
                i = Math.max(afterFirst, runEnd);
            }
        }
    }

    /** The end of the class characters starting at {@code from} (just one when there is no '+'); from if none. */
    private int run(String s, int from) {
        int i = from;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            if (!inClass(cp)) {
                break;
            }
            i += Character.charCount(cp);
            if (!plus) {
                break;
            }
        }
        return i;
    }

    /** The end of the match for the body [from, runEnd), honouring $ by backing off; -1 when there is none. */
    private int accept(String s, int from, int runEnd) {
        if (runEnd <= from) {
            return -1;
        }
        if (!dollar) {
            return runEnd;
        }
        for (int e = runEnd; e > from; e = s.offsetByCodePoints(e, -1)) {
            if (e == s.length() || s.charAt(e) == '\n') {
                return e;
            }
            if (!plus) {
                break;
            }
        }
        return -1;
    }

    private static boolean isSpace(int cp) {
        return cp < 0x10000 && SPACE.get(cp);
    }
}

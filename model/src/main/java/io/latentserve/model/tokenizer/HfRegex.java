package io.latentserve.model.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles a HuggingFace tokenizer regex (written for Oniguruma, Ruby syntax) as a java.util.regex Pattern with
 * the same meaning:
 * <ul>
 * <li>{@code \s}, {@code \d}, {@code \w} are Unicode classes (UNICODE_CHARACTER_CLASS), as in Oniguruma on UTF-8;</li>
 * <li>{@code ^}/{@code $} are line anchors that know only '\n' (MULTILINE + UNIX_LINES): within a pre-token
 *     piece without a newline, {@code $} is the end of the piece;</li>
 * <li>{@code \p{Name}} becomes {@code \p{IsName}}, which Java reads as a category, script or binary property,
 *     as Oniguruma does ({@code \p{^Name}} becomes {@code \P{IsName}});</li>
 * <li>Oniguruma's {@code \h} (hex digit) and {@code \v} (vertical tab) are spelled out: Java gives them other
 *     meanings.</li>
 * </ul>
 * Characters above U+FFFF need nothing: Java matches code points, also inside classes and ranges.
 */
final class HfRegex {
    static final int FLAGS = Pattern.UNICODE_CHARACTER_CLASS | Pattern.MULTILINE | Pattern.UNIX_LINES;

    private HfRegex() {
    }

    static Pattern compile(String hfPattern) {
        String java = translate(hfPattern);
        if (java.equals("\\s+$")) {
            // Leftmost match of \s+$ always starts at the beginning of a whitespace run; the look-behind skips the
            // other start positions, which would otherwise make a long run before a non-space cost O(n^2).
            java = "(?<!\\s)\\s+$";
        }
        try {
            return Pattern.compile(java, FLAGS);
        } catch (PatternSyntaxException e) {
            throw new TokenizerException("pre-tokenizer regex " + hfPattern + " cannot be compiled: "
                    + e.getDescription(), e);
        }
    }

    static String translate(String p) {
        StringBuilder out = new StringBuilder(p.length() + 16);
        int classDepth = 0;
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '\\' && i + 1 < p.length()) {
                char n = p.charAt(i + 1);
                if ((n == 'p' || n == 'P') && i + 2 < p.length() && p.charAt(i + 2) == '{') {
                    int close = p.indexOf('}', i + 3);
                    if (close < 0) {
                        throw new TokenizerException("pre-tokenizer regex " + p + ": unterminated \\p{");
                    }
                    out.append(property(n, p.substring(i + 3, close)));
                    i = close;
                } else if (n == 'h') {
                    out.append(classDepth > 0 ? "0-9a-fA-F" : "[0-9a-fA-F]");
                    i++;
                } else if (n == 'H') {
                    out.append("[^0-9a-fA-F]");
                    i++;
                } else if (n == 'v') {
                    out.append("\\x0B");
                    i++;
                } else {
                    out.append(c).append(n);
                    i++;
                }
            } else if (c == '[') {
                if (classDepth > 0 && p.startsWith("[:", i)) {
                    throw new TokenizerException("pre-tokenizer regex " + p + ": POSIX bracket classes are not supported");
                }
                classDepth++;
                out.append(c);
            } else if (c == ']' && classDepth > 0) {
                classDepth--;
                out.append(c);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String property(char p, String name) {
        boolean negate = p == 'P';
        if (name.startsWith("^")) {
            negate = !negate;
            name = name.substring(1);
        }
        String javaName = name.startsWith("Is") || name.startsWith("In") || name.contains("=") ? name : "Is" + name;
        return (negate ? "\\P{" : "\\p{") + javaName + "}";
    }
}

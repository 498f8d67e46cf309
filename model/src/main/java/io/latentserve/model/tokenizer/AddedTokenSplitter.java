package io.latentserve.model.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts the raw text at added tokens, as HuggingFace's AddedVocabulary does: first the tokens marked
 * {@code normalized: false} over the whole text, then the others inside the remaining gaps; each pass takes the
 * leftmost match and, among matches starting there, the longest.
 */
final class AddedTokenSplitter {
    /** Tokens of one pass, by their first char, longest first. */
    private final Map<Character, List<AddedToken>> rawPass;
    private final Map<Character, List<AddedToken>> normalizedPass;

    AddedTokenSplitter(List<AddedToken> tokens) {
        rawPass = index(tokens.stream().filter(t -> !t.normalized()).toList());
        normalizedPass = index(tokens.stream().filter(AddedToken::normalized).toList());
    }

    private static Map<Character, List<AddedToken>> index(List<AddedToken> tokens) {
        Map<Character, List<AddedToken>> byFirst = new HashMap<>();
        for (AddedToken t : tokens) {
            byFirst.computeIfAbsent(t.content().charAt(0), k -> new ArrayList<>()).add(t);
        }
        byFirst.values().forEach(l -> l.sort(Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed()));
        return byFirst;
    }

    boolean isEmpty() {
        return rawPass.isEmpty() && normalizedPass.isEmpty();
    }

    /**
     * Splits {@code text} into segments, appended to {@code out} as triples (start, end, id): id is the added
     * token's id, or -1 for a stretch of ordinary text to pre-tokenize.
     */
    void split(String text, IntList out) {
        IntList first = new IntList(8);
        pass(rawPass, text, 0, text.length(), first);
        for (int i = 0; i < first.size(); i += 3) {
            if (first.get(i + 2) >= 0) {
                out.add(first.get(i));
                out.add(first.get(i + 1));
                out.add(first.get(i + 2));
            } else {
                pass(normalizedPass, text, first.get(i), first.get(i + 1), out);
            }
        }
    }

    private static void pass(Map<Character, List<AddedToken>> tokens, String text, int from, int to, IntList out) {
        int gapStart = from;
        int pos = from;
        while (pos < to && !tokens.isEmpty()) {
            AddedToken hit = match(tokens, text, pos, to);
            if (hit == null) {
                pos++;
                continue;
            }
            int start = pos;
            int end = pos + hit.content().length();
            if (hit.lstrip()) {
                while (start > gapStart && Character.isWhitespace(text.charAt(start - 1))) {
                    start--;
                }
            }
            if (hit.rstrip()) {
                while (end < to && Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
            }
            emit(out, gapStart, start, -1);
            emit(out, start, end, hit.id());
            gapStart = end;
            pos = end;
        }
        emit(out, gapStart, to, -1);
    }

    private static AddedToken match(Map<Character, List<AddedToken>> tokens, String text, int pos, int to) {
        List<AddedToken> candidates = tokens.get(text.charAt(pos));
        if (candidates != null) {
            for (AddedToken t : candidates) {
                if (pos + t.content().length() <= to && text.startsWith(t.content(), pos)) {
                    return t;
                }
            }
        }
        return null;
    }

    private static void emit(IntList out, int start, int end, int id) {
        if (end > start) {
            out.add(start);
            out.add(end);
            out.add(id);
        }
    }
}

package io.latentserve.model.tokenizer;

import java.util.List;
import java.util.Locale;

/**
 * What a Split step does with its matches (HuggingFace SplitDelimiterBehavior). Given the alternating list of
 * matches and gaps that covers a piece, it decides which become pieces of their own.
 */
enum SplitBehavior {
    /** Matches are dropped; gaps stay. */
    REMOVED,
    /** Matches and gaps are pieces of their own. */
    ISOLATED,
    /** A match joins the gap before it. */
    MERGED_WITH_PREVIOUS,
    /** A match joins the gap after it. */
    MERGED_WITH_NEXT,
    /** Adjacent matches form one piece. */
    CONTIGUOUS;

    static SplitBehavior parse(String hfName) {
        return switch (hfName.toLowerCase(Locale.ROOT)) {
            case "removed" -> REMOVED;
            case "isolated" -> ISOLATED;
            case "mergedwithprevious" -> MERGED_WITH_PREVIOUS;
            case "mergedwithnext" -> MERGED_WITH_NEXT;
            case "contiguous" -> CONTIGUOUS;
            default -> throw new TokenizerException("unknown Split behavior " + hfName);
        };
    }

    /**
     * Emits the pieces of {@code piece}. {@code spans} holds (start, end, isMatch) triples covering the piece in
     * order, with no empty span. The merging rules follow HuggingFace's: a match merges into its neighbour only
     * when that neighbour is not itself a match.
     */
    void apply(String piece, IntList spans, List<String> out) {
        int n = spans.size() / 3;
        int[] starts = new int[n];
        int[] ends = new int[n];
        int count = 0;
        if (this == MERGED_WITH_NEXT) {
            // Walk backwards: a match joins the piece that follows it.
            boolean nextIsMatch = false;
            for (int i = n - 1; i >= 0; i--) {
                boolean match = spans.get(3 * i + 2) != 0;
                if (match && !nextIsMatch && count > 0) {
                    starts[count - 1] = spans.get(3 * i);
                } else {
                    starts[count] = spans.get(3 * i);
                    ends[count++] = spans.get(3 * i + 1);
                }
                nextIsMatch = match;
            }
            for (int i = count - 1; i >= 0; i--) {
                out.add(piece.substring(starts[i], ends[i]));
            }
            return;
        }
        boolean previousIsMatch = false;
        for (int i = 0; i < n; i++) {
            boolean match = spans.get(3 * i + 2) != 0;
            boolean join = switch (this) {
                case MERGED_WITH_PREVIOUS -> match && !previousIsMatch;
                case CONTIGUOUS -> match == previousIsMatch;
                default -> false;
            };
            if (this == REMOVED && match) {
                continue;
            }
            if (join && count > 0) {
                ends[count - 1] = spans.get(3 * i + 1);
            } else {
                starts[count] = spans.get(3 * i);
                ends[count++] = spans.get(3 * i + 1);
            }
            previousIsMatch = match;
        }
        for (int i = 0; i < count; i++) {
            out.add(piece.substring(starts[i], ends[i]));
        }
    }
}

package io.latentserve.model.tokenizer;

import java.util.ArrayList;
import java.util.List;

/** One pre-tokenization step: cuts a piece of text into smaller pieces (never empty ones). */
interface PreTokenizer {

    /** Appends the pieces of {@code piece} to {@code out}. */
    void split(String piece, List<String> out);

    /** The identity step: the whole piece. */
    PreTokenizer NONE = (piece, out) -> out.add(piece);

    /** A step that applies {@code steps} in order, each to every piece the previous ones produced. */
    static PreTokenizer sequence(List<PreTokenizer> steps) {
        if (steps.isEmpty()) {
            return NONE;
        }
        if (steps.size() == 1) {
            return steps.getFirst();
        }
        List<PreTokenizer> copy = List.copyOf(steps);
        return (piece, out) -> {
            List<String> current = new ArrayList<>();
            current.add(piece);
            for (PreTokenizer step : copy) {
                List<String> next = new ArrayList<>(current.size() * 2);
                for (String p : current) {
                    step.split(p, next);
                }
                current = next;
            }
            out.addAll(current);
        };
    }
}

package io.latentserve.model.tokenizer;

/**
 * A token matched literally in the raw text before pre-tokenization (tokenizer.json "added_tokens").
 * {@code normalized} false tokens are matched first, as HuggingFace does; {@code lstrip}/{@code rstrip} let the
 * match swallow the whitespace on that side.
 */
public record AddedToken(int id, String content, boolean special, boolean normalized, boolean lstrip,
                         boolean rstrip) {

    public AddedToken {
        if (content == null || content.isEmpty()) {
            throw new IllegalArgumentException("added token " + id + " has empty content");
        }
    }

    /** A plain added token: no stripping; special ones are matched before normalization. */
    public static AddedToken of(int id, String content, boolean special) {
        return new AddedToken(id, content, special, !special, false, false);
    }
}

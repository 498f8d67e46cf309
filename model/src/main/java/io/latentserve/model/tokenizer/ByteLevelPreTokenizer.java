package io.latentserve.model.tokenizer;

import java.util.List;

/**
 * The splitting part of HuggingFace's ByteLevel pre-tokenizer: optionally a space in front of each piece that does
 * not start with one, then optionally GPT-2's regex. (The byte-to-character mapping itself happens in the BPE
 * model, which works on bytes.)
 */
final class ByteLevelPreTokenizer implements PreTokenizer {
    static final String GPT2_REGEX =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private final boolean addPrefixSpace;
    private final PreTokenizer regex;

    ByteLevelPreTokenizer(boolean addPrefixSpace, boolean useRegex) {
        this.addPrefixSpace = addPrefixSpace;
        this.regex = useRegex ? SplitPreTokenizer.regex(GPT2_REGEX, SplitBehavior.ISOLATED, false) : NONE;
    }

    @Override
    public void split(String piece, List<String> out) {
        if (piece.isEmpty()) {
            return;
        }
        regex.split(addPrefixSpace && piece.charAt(0) != ' ' ? " " + piece : piece, out);
    }
}

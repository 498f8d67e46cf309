package io.latentserve.model.tokenizer;

/**
 * Fill-in-the-middle prompts of DeepSeek Coder: {@code <｜fim▁begin｜>prefix<｜fim▁hole｜>suffix<｜fim▁end｜>}
 * (bars U+FF5C, separators U+2581); the model writes the middle. BOS, when wanted, is added by the tokenizer.
 */
public final class FimPrompt {
    public static final String BEGIN = "<\uFF5Cfim\u2581begin\uFF5C>";
    public static final String HOLE = "<\uFF5Cfim\u2581hole\uFF5C>";
    public static final String END = "<\uFF5Cfim\u2581end\uFF5C>";

    private FimPrompt() {
    }

    /** The FIM prompt for the code before and after the cursor. */
    public static String build(String prefix, String suffix) {
        return BEGIN + prefix + HOLE + suffix + END;
    }

    /** Whether the tokenizer has all three FIM markers as tokens of their own (deepseek-coder does, deepseek-llm not). */
    public static boolean supportedBy(Tokenizer tokenizer) {
        return tokenizer.tokenId(BEGIN).isPresent() && tokenizer.tokenId(HOLE).isPresent()
                && tokenizer.tokenId(END).isPresent();
    }

    /** Whether a prompt already carries FIM markers, so that a server does not wrap it a second time. */
    public static boolean containsMarkers(String prompt) {
        return prompt.contains(BEGIN) || prompt.contains(HOLE) || prompt.contains(END);
    }
}

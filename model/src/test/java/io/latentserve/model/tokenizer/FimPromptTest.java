package io.latentserve.model.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FimPromptTest {

    @Test
    void markersAreSpelledWithFullwidthBarsAndLowLines() {
        assertEquals("<\uFF5Cfim\u2581begin\uFF5C>p<\uFF5Cfim\u2581hole\uFF5C>s<\uFF5Cfim\u2581end\uFF5C>",
                FimPrompt.build("p", "s"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"json", "gguf"})
    void coderTokenizerHasFimTokensAsSingleIds(String source) {
        BpeTokenizer coder = TestTokenizers.get("coder", source);
        assertTrue(FimPrompt.supportedBy(coder));
        int[] ids = coder.encode(FimPrompt.build("def add(a, b):\n", "\n    return c"), true);
        assertEquals(32013, ids[0]);
        assertEquals(32016, ids[1]);
        assertEquals(32017, ids[ids.length - 1]);
        assertEquals(1, Arrays.stream(ids).filter(id -> id == 32015).count());
        assertEquals(FimPrompt.build("def add(a, b):\n", "\n    return c"), coder.decode(ids, true));
    }

    @ParameterizedTest
    @ValueSource(strings = {"json", "gguf"})
    void llmTokenizerHasNoFimTokens(String source) {
        BpeTokenizer llm = TestTokenizers.get("llm", source);
        assertFalse(FimPrompt.supportedBy(llm));
        int[] ids = llm.encode(FimPrompt.build("a", "b"));
        assertTrue(ids.length > 10, "markers are ordinary text here");
    }

    @Test
    void detectsPromptsThatAlreadyCarryMarkers() {
        assertTrue(FimPrompt.containsMarkers(FimPrompt.build("x", "y")));
        assertTrue(FimPrompt.containsMarkers("code " + FimPrompt.HOLE));
        assertFalse(FimPrompt.containsMarkers("<|fim_begin|> plain text"));
    }
}

package io.latentserve.model.tokenizer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The llama.cpp vocab test vectors (ids from the original HuggingFace tokenizers), from tokenizer.json and GGUF. */
class VocabTestVectorsTest {

    @ParameterizedTest(name = "{0} from {1}")
    @CsvSource({"llm, json", "llm, gguf", "coder, json", "coder, gguf"})
    void everyTestTextEncodesExactlyAsTheReference(String name, String source) {
        BpeTokenizer tok = TestTokenizers.get(name, source);
        List<String> texts = TestTokenizers.inputs(name);
        List<int[]> expected = TestTokenizers.outputs(name);
        assertEquals(46, texts.size());
        assertEquals(texts.size(), expected.size());
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            int[] got = tok.encode(texts.get(i));
            if (!Arrays.equals(expected.get(i), got)) {
                failures.add("#" + i + " " + escape(texts.get(i)) + "\n  expected " + Arrays.toString(expected.get(i))
                        + "\n  got      " + Arrays.toString(got));
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " of " + texts.size() + " differ:\n" + String.join("\n", failures));
    }

    @ParameterizedTest(name = "{0} from {1}")
    @CsvSource({"llm, json", "llm, gguf", "coder, json", "coder, gguf"})
    void decodingGivesBackEveryTestText(String name, String source) {
        BpeTokenizer tok = TestTokenizers.get(name, source);
        for (String text : TestTokenizers.inputs(name)) {
            assertEquals(text, tok.decode(tok.encode(text)), () -> "round trip of " + escape(text));
            assertEquals(text, tok.decode(tok.encode(text, true), true), () -> "round trip with BOS of " + escape(text));
        }
    }

    static String escape(String s) {
        return "\"" + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "\"";
    }
}

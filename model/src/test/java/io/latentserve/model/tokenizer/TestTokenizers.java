package io.latentserve.model.tokenizer;

import io.latentserve.model.TestData;
import io.latentserve.model.gguf.GgufFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The DeepSeek test tokenizers, loaded once per test run (loading parses ~100K merges). */
final class TestTokenizers {
    private static final Map<String, BpeTokenizer> CACHE = new ConcurrentHashMap<>();

    private TestTokenizers() {
    }

    static Path dir() {
        return TestData.require("tokenizer");
    }

    /** name: "llm" or "coder"; source: "json" or "gguf". */
    static BpeTokenizer get(String name, String source) {
        Path dir = dir();
        return CACHE.computeIfAbsent(name + "/" + source, k -> {
            if (source.equals("json")) {
                return BpeTokenizer.fromTokenizerJson(dir.resolve("deepseek-" + name + ".tokenizer.json"),
                        dir.resolve("deepseek-" + name + ".tokenizer_config.json"));
            }
            try (GgufFile gguf = GgufFile.open(dir.resolve("ggml-vocab-deepseek-" + name + ".gguf"))) {
                return BpeTokenizer.fromGguf(gguf);
            }
        });
    }

    static BpeTokenizer llm() {
        return get("llm", "json");
    }

    static BpeTokenizer coder() {
        return get("coder", "json");
    }

    /** The test texts of ggml-vocab-deepseek-NAME.gguf.inp. */
    static List<String> inputs(String name) {
        String all = read(dir().resolve("ggml-vocab-deepseek-" + name + ".gguf.inp"));
        List<String> texts = Arrays.asList(all.split("\n__ggml_vocab_test__\n", -1));
        if (!texts.getLast().isEmpty()) {
            throw new IllegalStateException("the .inp file does not end with a separator");
        }
        return texts.subList(0, texts.size() - 1);
    }

    /** The expected ids of each test text (an empty line for the empty text). */
    static List<int[]> outputs(String name) {
        String all = read(dir().resolve("ggml-vocab-deepseek-" + name + ".gguf.out"));
        List<String> lines = Arrays.asList(all.split("\n", -1));
        if (lines.getLast().isEmpty()) {
            lines = lines.subList(0, lines.size() - 1);
        }
        return lines.stream()
                .map(l -> l.isBlank() ? new int[0] : Arrays.stream(l.trim().split(" ")).mapToInt(Integer::parseInt).toArray())
                .toList();
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package io.latentserve.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/** Builds the pre-tokenizer of a tokenizer.json: Sequence, Split, Digits and ByteLevel. */
final class JsonPreTokenizers {
    private JsonPreTokenizers() {
    }

    static PreTokenizer build(String src, JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return PreTokenizer.NONE;
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                for (JsonNode inner : node.path("pretokenizers")) {
                    steps.add(build(src, inner));
                }
                yield PreTokenizer.sequence(steps);
            }
            case "Split" -> split(src, node);
            case "Digits" -> SplitPreTokenizer.digits(node.path("individual_digits").asBoolean(false));
            case "ByteLevel" -> new ByteLevelPreTokenizer(node.path("add_prefix_space").asBoolean(true),
                    node.path("use_regex").asBoolean(true));
            default -> throw new TokenizerException(src + ": pre-tokenizer " + type + " is not supported");
        };
    }

    private static PreTokenizer split(String src, JsonNode node) {
        JsonNode pattern = node.path("pattern");
        SplitBehavior behavior;
        try {
            behavior = SplitBehavior.parse(node.path("behavior").asText());
        } catch (TokenizerException e) {
            throw new TokenizerException(src + ": " + e.getMessage());
        }
        boolean invert = node.path("invert").asBoolean(false);
        try {
            if (pattern.hasNonNull("Regex")) {
                return SplitPreTokenizer.regex(pattern.get("Regex").asText(), behavior, invert);
            }
            if (pattern.hasNonNull("String")) {
                return SplitPreTokenizer.literal(pattern.get("String").asText(), behavior, invert);
            }
        } catch (TokenizerException e) {
            throw new TokenizerException(src + ": " + e.getMessage(), e);
        }
        throw new TokenizerException(src + ": Split pre-tokenizer without a Regex or String pattern: " + node);
    }
}

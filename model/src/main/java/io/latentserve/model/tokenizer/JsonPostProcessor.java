package io.latentserve.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reads what the tokenizer.json post-processor says about BOS: a TemplateProcessing whose "single" template puts
 * a special token before the sequence. Other post-processors that add tokens are refused.
 */
final class JsonPostProcessor {
    private JsonPostProcessor() {
    }

    /** The token that the template puts before the text, or null when it puts none. */
    static String bosToken(String src, JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return null;
        }
        String type = node.path("type").asText();
        switch (type) {
            case "ByteLevel":
                return null; // only trims offsets
            case "Sequence":
                String found = null;
                for (JsonNode inner : node.path("processors")) {
                    String t = bosToken(src, inner);
                    found = found == null ? t : found;
                }
                return found;
            case "TemplateProcessing":
                for (JsonNode piece : node.path("single")) {
                    if (piece.has("Sequence")) {
                        return null;
                    }
                    if (piece.has("SpecialToken")) {
                        return piece.get("SpecialToken").path("id").asText();
                    }
                }
                return null;
            default:
                throw new TokenizerException(src + ": post-processor " + type + " is not supported");
        }
    }
}

package io.latentserve.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a HuggingFace tokenizer.json (byte-level BPE) and, optionally, tokenizer_config.json. Parts of the format
 * this engine does not implement are refused with a message naming the file and the part, rather than being
 * silently ignored and producing wrong ids.
 */
final class TokenizerJsonLoader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerJsonLoader() {
    }

    static BpeTokenizer load(Path tokenizerJson, Path configOrNull) {
        String src = "tokenizer file " + tokenizerJson;
        JsonNode root = read(tokenizerJson);
        JsonNode config = configOrNull == null ? null : read(configOrNull);

        JsonNode model = root.path("model");
        checkModel(src, model);
        Map<String, Integer> vocab = new HashMap<>();
        model.path("vocab").properties().forEach(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        List<String[]> merges = merges(src, model.path("merges"));
        List<AddedToken> added = addedTokens(src, root.path("added_tokens"));
        checkNormalizer(src, root.path("normalizer"));
        checkDecoder(src, root.path("decoder"));
        PreTokenizer pre = JsonPreTokenizers.build(src, root.path("pre_tokenizer"));
        String templateBos = JsonPostProcessor.bosToken(src, root.path("post_processor"));

        Vocabulary v = new Vocabulary(vocab, added, src);
        BpeModel bpe = new BpeModel(vocab, merges, model.path("ignore_merges").asBoolean(false), src);
        String cfgSrc = "tokenizer config " + configOrNull;
        String bosToken = config != null && config.hasNonNull("bos_token") ? tokenString(config.get("bos_token")) : templateBos;
        String eosToken = config != null && config.hasNonNull("eos_token") ? tokenString(config.get("eos_token")) : null;
        int bos = bosToken == null ? -1 : idOf(v, bosToken, cfgSrc + " bos_token");
        int eos = eosToken == null ? guessEos(v) : idOf(v, eosToken, cfgSrc + " eos_token");
        boolean addBos = config != null && config.has("add_bos_token")
                ? config.get("add_bos_token").asBoolean() : templateBos != null;
        return new BpeTokenizer(tokenizerJson.toString(), v, bpe, added, pre, bos, eos, addBos);
    }

    static JsonNode read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException("tokenizer file " + file + " does not exist");
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException("cannot read tokenizer file " + file + ": " + e.getMessage(), e);
        }
    }

    private static void checkModel(String src, JsonNode model) {
        if (model.isMissingNode() || !model.path("vocab").isObject()) {
            throw new TokenizerException(src + ": model.vocab is missing");
        }
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw new TokenizerException(src + ": model type " + type + " is not supported (only BPE)");
        }
        if (model.path("dropout").isNumber() && model.path("dropout").asDouble() != 0) {
            throw new TokenizerException(src + ": BPE dropout is not supported");
        }
        for (String key : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            if (!model.path(key).asText("").isEmpty()) {
                throw new TokenizerException(src + ": BPE " + key + " is not supported");
            }
        }
        if (model.path("byte_fallback").asBoolean(false)) {
            throw new TokenizerException(src + ": BPE byte_fallback is not supported (byte-level BPE only)");
        }
    }

    /** Merges as "a b" strings or as [a, b] pairs. */
    private static List<String[]> merges(String src, JsonNode node) {
        List<String[]> merges = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            String[] pair;
            if (m.isArray() && m.size() == 2) {
                pair = new String[] {m.get(0).asText(), m.get(1).asText()};
            } else if (m.isTextual() && m.asText().indexOf(' ', 1) > 0) {
                int space = m.asText().indexOf(' ', 1);
                pair = new String[] {m.asText().substring(0, space), m.asText().substring(space + 1)};
            } else {
                throw new TokenizerException(src + ": merge #" + i + " " + m + " is neither \"a b\" nor [a, b]");
            }
            merges.add(pair);
        }
        return merges;
    }

    private static List<AddedToken> addedTokens(String src, JsonNode node) {
        List<AddedToken> out = new ArrayList<>();
        for (JsonNode t : node) {
            if (!t.path("id").canConvertToInt() || t.path("content").asText("").isEmpty()) {
                throw new TokenizerException(src + ": added token " + t + " needs an id and a content");
            }
            // single_word is not implemented; no DeepSeek tokenizer sets it.
            out.add(new AddedToken(t.get("id").asInt(), t.get("content").asText(), t.path("special").asBoolean(false),
                    t.path("normalized").asBoolean(!t.path("special").asBoolean(false)),
                    t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false)));
        }
        return out;
    }

    /** Only "no normalization" is supported: null, or a Sequence with nothing in it. */
    private static void checkNormalizer(String src, JsonNode n) {
        if (n.isMissingNode() || n.isNull()) {
            return;
        }
        if (n.path("type").asText().equals("Sequence")) {
            for (JsonNode inner : n.path("normalizers")) {
                checkNormalizer(src, inner);
            }
            return;
        }
        throw new TokenizerException(src + ": normalizer " + n.path("type").asText() + " is not supported");
    }

    /** Decoding is byte-level; other decoders would change the text, so they are refused. */
    private static void checkDecoder(String src, JsonNode d) {
        if (d.isMissingNode() || d.isNull() || d.path("type").asText().equals("ByteLevel")) {
            return;
        }
        if (d.path("type").asText().equals("Sequence")) {
            for (JsonNode inner : d.path("decoders")) {
                checkDecoder(src, inner);
            }
            return;
        }
        throw new TokenizerException(src + ": decoder " + d.path("type").asText() + " is not supported");
    }

    /** bos_token / eos_token: a string, or an AddedToken object with a "content". */
    static String tokenString(JsonNode n) {
        return n.isTextual() ? n.asText() : n.path("content").asText(null);
    }

    private static int idOf(Vocabulary v, String token, String what) {
        return v.id(token).orElseThrow(() -> new TokenizerException(what + " \"" + token
                + "\" is not a token of the vocabulary"));
    }

    /** Without a tokenizer_config.json, the usual end-of-text tokens; -1 when none is there. */
    private static int guessEos(Vocabulary v) {
        for (String t : List.of("<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "</s>", "<|endoftext|>", "<|end_of_text|>")) {
            if (v.id(t).isPresent()) {
                return v.id(t).getAsInt();
            }
        }
        return -1;
    }
}

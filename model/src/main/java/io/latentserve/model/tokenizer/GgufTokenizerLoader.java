package io.latentserve.model.tokenizer;

import io.latentserve.model.gguf.GgufException;
import io.latentserve.model.gguf.GgufFile;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a BPE tokenizer from the tokenizer.ggml.* keys of a GGUF file. Token types follow llama.cpp:
 * 1 normal (BPE vocabulary), 3 control (special added token), 4 user-defined (plain added token), 5 unused,
 * 6 byte. The "[PAD<id>]" entries that llama.cpp's converter invents to pad the vocabulary to the model's row
 * count are not tokens of the original tokenizer, so they are left out (those ids decode to "").
 */
final class GgufTokenizerLoader {
    private static final int NORMAL = 1;
    private static final int CONTROL = 3;
    private static final int USER_DEFINED = 4;

    private GgufTokenizerLoader() {
    }

    static BpeTokenizer load(GgufFile gguf) {
        String src = "GGUF file " + gguf.path();
        try {
            String model = gguf.getString("tokenizer.ggml.model");
            if (!model.equals("gpt2")) {
                throw new TokenizerException(src + ": tokenizer.ggml.model " + model
                        + " is not supported (only gpt2, byte-level BPE)");
            }
            String[] tokens = gguf.getStringArray("tokenizer.ggml.tokens");
            int[] types = gguf.has("tokenizer.ggml.token_type") ? gguf.getIntArray("tokenizer.ggml.token_type")
                    : filled(tokens.length, NORMAL);
            if (types.length != tokens.length) {
                throw new TokenizerException(src + ": tokenizer.ggml.token_type has " + types.length
                        + " entries for " + tokens.length + " tokens");
            }
            Map<String, Integer> vocab = new HashMap<>(tokens.length * 2);
            List<AddedToken> added = new ArrayList<>();
            for (int id = 0; id < tokens.length; id++) {
                if (tokens[id].isEmpty()) {
                    continue; // an empty string cannot be a token; llama.cpp never matches one either
                }
                switch (types[id]) {
                    case 0, NORMAL -> vocab.put(tokens[id], id);
                    case CONTROL -> added.add(AddedToken.of(id, tokens[id], true));
                    case USER_DEFINED -> {
                        if (!tokens[id].equals("[PAD" + id + "]")) {
                            added.add(AddedToken.of(id, tokens[id], false));
                        }
                    }
                    default -> { } // unknown, unused and byte tokens take no part in byte-level BPE
                }
            }
            List<String[]> merges = merges(src, gguf.getStringArray("tokenizer.ggml.merges"));
            String pre = gguf.has("tokenizer.ggml.pre") ? gguf.getString("tokenizer.ggml.pre") : "default";
            PreTokenizer preTokenizer = preTokenizer(src, pre);
            int bos = gguf.has("tokenizer.ggml.bos_token_id") ? gguf.getInt("tokenizer.ggml.bos_token_id") : -1;
            int eos = gguf.has("tokenizer.ggml.eos_token_id") ? gguf.getInt("tokenizer.ggml.eos_token_id") : -1;
            boolean addBos = gguf.has("tokenizer.ggml.add_bos_token")
                    ? gguf.getBoolean("tokenizer.ggml.add_bos_token") : bos >= 0;
            Vocabulary v = new Vocabulary(vocab, added, src);
            checkId(src, v, bos, "bos_token_id");
            checkId(src, v, eos, "eos_token_id");
            return new BpeTokenizer(gguf.path().toString(), v, new BpeModel(vocab, merges, false, src), added,
                    preTokenizer, bos, eos, addBos);
        } catch (GgufException e) {
            throw new TokenizerException(e.getMessage(), e);
        }
    }

    private static int[] filled(int n, int value) {
        int[] a = new int[n];
        Arrays.fill(a, value);
        return a;
    }

    private static List<String[]> merges(String src, String[] merges) {
        List<String[]> out = new ArrayList<>(merges.length);
        for (int i = 0; i < merges.length; i++) {
            int space = merges[i].indexOf(' ', 1);
            if (space < 0) {
                throw new TokenizerException(src + ": tokenizer.ggml.merges[" + i + "] \"" + merges[i]
                        + "\" is not \"a b\"");
            }
            out.add(new String[] {merges[i].substring(0, space), merges[i].substring(space + 1)});
        }
        return out;
    }

    /** The pre-tokenizer llama.cpp associates with tokenizer.ggml.pre. */
    static PreTokenizer preTokenizer(String src, String pre) {
        return switch (pre) {
            case "deepseek-llm" -> DeepSeekPreTokenizers.llm();
            case "deepseek-coder" -> DeepSeekPreTokenizers.coder();
            case "default", "gpt2", "gpt-2" -> new ByteLevelPreTokenizer(false, true);
            default -> throw new TokenizerException(src + ": tokenizer.ggml.pre " + pre + " is not supported"
                    + " (known: deepseek-llm, deepseek-coder, gpt2)");
        };
    }

    private static void checkId(String src, Vocabulary v, int id, String key) {
        if (id >= 0 && !v.hasToken(id)) {
            throw new TokenizerException(src + ": tokenizer.ggml." + key + " " + id + " has no token");
        }
    }
}

package io.latentserve.model.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Every id's token: the BPE vocabulary (in byte-level spelling) and the added tokens (plain text). Knows what
 * bytes each id decodes to; ids in between (vocabulary padding) have no token and decode to nothing.
 */
final class Vocabulary {
    private static final byte[] NO_BYTES = new byte[0];

    private final String[] tokens;
    private final byte[][] bytes;
    private final boolean[] special;
    private final Map<String, Integer> byToken;

    Vocabulary(Map<String, Integer> bpeVocab, List<AddedToken> added, String source) {
        int size = 0;
        for (int id : bpeVocab.values()) {
            size = Math.max(size, id + 1);
        }
        for (AddedToken t : added) {
            size = Math.max(size, t.id() + 1);
        }
        tokens = new String[size];
        bytes = new byte[size][];
        special = new boolean[size];
        byToken = new HashMap<>(bpeVocab.size() * 2);
        for (Map.Entry<String, Integer> e : bpeVocab.entrySet()) {
            int id = e.getValue();
            if (id < 0) {
                throw new TokenizerException(source + ": vocabulary token \"" + e.getKey() + "\" has negative id " + id);
            }
            if (tokens[id] != null) {
                throw new TokenizerException(source + ": id " + id + " is used by both \"" + tokens[id]
                        + "\" and \"" + e.getKey() + "\"");
            }
            tokens[id] = e.getKey();
            bytes[id] = ByteLevel.decode(e.getKey());
            byToken.put(e.getKey(), id);
        }
        for (AddedToken t : added) {
            if (t.id() < 0) {
                throw new TokenizerException(source + ": added token \"" + t.content() + "\" has negative id");
            }
            // An added token decodes to its literal text, not through the byte-level alphabet: "ü" is U+00FC,
            // not the byte 0xFC.
            tokens[t.id()] = t.content();
            bytes[t.id()] = t.content().getBytes(StandardCharsets.UTF_8);
            special[t.id()] = t.special();
            byToken.put(t.content(), t.id()); // added tokens win, as in HuggingFace's token_to_id
        }
    }

    int size() {
        return tokens.length;
    }

    boolean hasToken(int id) {
        return id >= 0 && id < tokens.length && tokens[id] != null;
    }

    /** The token as written in the tokenizer file, or null. */
    String token(int id) {
        return hasToken(id) ? tokens[id] : null;
    }

    /** The decoded bytes (shared: callers must not modify them). */
    byte[] bytes(int id) {
        return hasToken(id) ? bytes[id] : NO_BYTES;
    }

    boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    OptionalInt id(String token) {
        Integer id = byToken.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }
}

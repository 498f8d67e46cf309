package io.latentserve.model.tokenizer;

import java.util.OptionalInt;

/**
 * Text to token ids and back. Implementations are immutable and safe to share between threads.
 * Ids that a model can emit but that have no token (vocabulary padding) decode to nothing.
 */
public interface Tokenizer {

    /** The ids of {@code text}, with no special tokens added. */
    int[] encode(String text);

    /** The ids of {@code text}, with the BOS id prepended when {@code addBos}. */
    int[] encode(String text, boolean addBos);

    /** The text of {@code ids}, special tokens included. */
    default String decode(int[] ids) {
        return decode(ids, false);
    }

    /** The text of {@code ids}; bytes that are not valid UTF-8 become U+FFFD. */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** The beginning-of-sequence id, or -1 when the tokenizer has none. */
    int bosId();

    /** The end-of-sequence id, or -1 when the tokenizer has none. */
    int eosId();

    /** Whether prompts should start with BOS (tokenizer_config add_bos_token, GGUF add_bos_token). */
    default boolean addBosByDefault() {
        return bosId() >= 0;
    }

    /** The largest id of the vocabulary and the added tokens, plus one. */
    int vocabSize();

    /** The id of a token, given as an added token's content or as a vocabulary entry (byte-level form). */
    OptionalInt tokenId(String token);

    /** The decoded bytes of one token as a String; "" for ids without a token. */
    String tokenText(int id);

    /** The bytes that one token stands for; empty for ids without a token. */
    byte[] tokenBytes(int id);

    /** Whether the id is a special (control) token such as BOS or EOS. */
    boolean isSpecial(int id);
}

package io.latentserve.model.tokenizer;

import io.latentserve.model.gguf.GgufFile;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * A byte-level BPE tokenizer in HuggingFace's pipeline order: added tokens are cut out of the raw text first,
 * the rest is pre-tokenized into pieces, and each piece is merged by the BPE model. Decoding concatenates each
 * token's bytes and reads them as UTF-8.
 */
public final class BpeTokenizer implements Tokenizer {
    private final String source;
    private final Vocabulary vocab;
    private final BpeModel bpe;
    private final AddedTokenSplitter added;
    private final PreTokenizer preTokenizer;
    private final int bos;
    private final int eos;
    private final boolean addBos;

    BpeTokenizer(String source, Vocabulary vocab, BpeModel bpe, List<AddedToken> addedTokens,
                 PreTokenizer preTokenizer, int bos, int eos, boolean addBos) {
        this.source = source;
        this.vocab = vocab;
        this.bpe = bpe;
        this.added = new AddedTokenSplitter(addedTokens);
        this.preTokenizer = preTokenizer;
        this.bos = bos;
        this.eos = eos;
        this.addBos = addBos;
    }

    /**
     * Loads a HuggingFace tokenizer.json, with the BOS/EOS tokens and add_bos_token of tokenizer_config.json
     * when given (null: taken from the post-processor, or absent).
     */
    public static BpeTokenizer fromTokenizerJson(Path tokenizerJson, Path tokenizerConfigJsonOrNull) {
        return TokenizerJsonLoader.load(tokenizerJson, tokenizerConfigJsonOrNull);
    }

    /** Builds the tokenizer a GGUF file describes (tokenizer.ggml.* keys, model "gpt2"). */
    public static BpeTokenizer fromGguf(GgufFile gguf) {
        return GgufTokenizerLoader.load(gguf);
    }

    @Override
    public int[] encode(String text) {
        return encode(text, false);
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        IntList out = new IntList(text.length() / 3 + 4);
        if (addBos && bos >= 0) {
            out.add(bos);
        }
        IntList segments = new IntList(6);
        added.split(text, segments);
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < segments.size(); i += 3) {
            int id = segments.get(i + 2);
            if (id >= 0) {
                out.add(id);
                continue;
            }
            pieces.clear();
            preTokenizer.split(text.substring(segments.get(i), segments.get(i + 1)), pieces);
            for (String piece : pieces) {
                bpe.encode(piece, out);
            }
        }
        return out.toArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            if (!(skipSpecialTokens && vocab.isSpecial(id))) {
                bytes.writeBytes(vocab.bytes(id));
            }
        }
        byte[] all = bytes.toByteArray();
        return Utf8.decode(all, 0, all.length);
    }

    @Override
    public int bosId() {
        return bos;
    }

    @Override
    public int eosId() {
        return eos;
    }

    @Override
    public boolean addBosByDefault() {
        return addBos && bos >= 0;
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public OptionalInt tokenId(String token) {
        return vocab.id(token);
    }

    @Override
    public String tokenText(int id) {
        byte[] b = vocab.bytes(id);
        return Utf8.decode(b, 0, b.length);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return vocab.bytes(id).clone();
    }

    @Override
    public boolean isSpecial(int id) {
        return vocab.isSpecial(id);
    }

    /** The token as the tokenizer file spells it (byte-level form for vocabulary tokens), or null. */
    public String rawToken(int id) {
        return vocab.token(id);
    }

    /** Number of BPE merges. */
    public int mergeCount() {
        return bpe.mergeCount();
    }

    @Override
    public String toString() {
        return "BpeTokenizer[" + source + ", " + vocab.size() + " ids, bos " + bos + ", eos " + eos + "]";
    }
}

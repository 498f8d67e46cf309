package io.latentserve.model.tokenizer;

import java.util.Arrays;

/**
 * Turns a stream of token ids into text deltas for streaming responses. A token may end in the middle of a UTF-8
 * character (emoji and CJK often span several byte-level tokens), so the bytes of an incomplete character are held
 * back until the rest arrives; bytes that can never become valid are emitted at once as U+FFFD. The concatenation
 * of all deltas and {@link #flush()} equals {@code tokenizer.decode(ids, skipSpecialTokens)}.
 * Not thread-safe: one instance per sequence.
 */
public final class IncrementalDetokenizer {
    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private byte[] pending = new byte[16];
    private int pendingLength;

    public IncrementalDetokenizer(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    public IncrementalDetokenizer(Tokenizer tokenizer) {
        this(tokenizer, false);
    }

    /** Feeds one id; returns the text that can be shown now (possibly ""). */
    public String add(int id) {
        if (skipSpecialTokens && tokenizer.isSpecial(id)) {
            return "";
        }
        byte[] bytes = tokenizer.tokenBytes(id);
        if (pendingLength + bytes.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + bytes.length));
        }
        System.arraycopy(bytes, 0, pending, pendingLength, bytes.length);
        pendingLength += bytes.length;
        int ready = Utf8.completeLength(pending, pendingLength);
        return take(ready);
    }

    /** Ends the stream: held-back bytes of an unfinished character come out as U+FFFD, as a full decode gives. */
    public String flush() {
        return take(pendingLength);
    }

    /** Whether bytes of an unfinished character are being held back. */
    public boolean hasPending() {
        return pendingLength > 0;
    }

    private String take(int n) {
        if (n == 0) {
            return "";
        }
        String text = Utf8.decode(pending, 0, n);
        System.arraycopy(pending, n, pending, 0, pendingLength - n);
        pendingLength -= n;
        return text;
    }
}

package io.latentserve.model.tokenizer;

/** A tokenizer that cannot be loaded or used: the message names the file and the offending entry. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}

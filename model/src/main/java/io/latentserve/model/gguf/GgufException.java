package io.latentserve.model.gguf;

/** A GGUF file that cannot be read: the message names the file and, where there is one, the key or tensor. */
public class GgufException extends RuntimeException {
    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}

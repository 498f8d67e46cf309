package io.latentserve.model.tokenizer;

/** A chat template that cannot be rendered: a Jinja error, or the template's own raise_exception. */
public class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}

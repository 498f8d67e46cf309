package io.latentserve.server.api;

import io.latentserve.server.engine.Engine;

import java.util.UUID;

/** What every endpoint needs: the engine, the served model and the JSON codec. */
public record ApiContext(Engine engine, ServedModel model, Json json) {

    /** Ids the model can take and emit: its logits' width, which may exceed the tokenizer's (padding ids). */
    public int vocabSize() {
        return Math.max(engine.model().config().vocabSize(), model.tokenizer().vocabSize());
    }

    public int maxModelLen() {
        return engine.config().maxModelLen();
    }

    /** The longest prompt + completion that can run: the context, or the whole KV cache if smaller. */
    public int tokenLimit() {
        return (int) Math.min(engine.config().maxModelLen(), engine.config().capacityTokens());
    }

    /** A fresh response id with OpenAI's prefix for the object type ("chatcmpl", "cmpl"). */
    public static String newId(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().replace("-", "");
    }

    public static long nowSeconds() {
        return System.currentTimeMillis() / 1000;
    }
}

package io.latentserve.server.api;

import io.latentserve.server.engine.Engine;

import java.util.UUID;

/**
 * What every endpoint needs: the engine, the served model, the JSON codec and the per-request limits.
 * The server listens before the weights are loaded (so /health and /ready answer during start-up);
 * until {@link #ready} is called the model-backed routes answer 503.
 */
public final class ApiContext {
    private final Json json;
    private final int maxTokensCap;
    private volatile Engine engine;
    private volatile ServedModel model;
    private volatile boolean draining;

    /**
     * A context still loading.
     *
     * @param maxTokensCap the most tokens one request may ask to generate (--max-tokens-cap)
     */
    public ApiContext(Json json, int maxTokensCap) {
        this.json = json;
        this.maxTokensCap = maxTokensCap;
    }

    /** The model is loaded and the engine runs: model-backed routes open. */
    public void ready(Engine engine, ServedModel model) {
        this.model = model;
        this.engine = engine;
    }

    public boolean isReady() {
        return engine != null;
    }

    /** Shutting down: /ready turns 503 so load balancers stop sending; running requests finish. */
    public void drain() {
        draining = true;
    }

    public boolean isDraining() {
        return draining;
    }

    public Engine engine() {
        Engine e = engine;
        if (e == null) {
            throw loading();
        }
        return e;
    }

    public ServedModel model() {
        ServedModel m = model;
        if (m == null) {
            throw loading();
        }
        return m;
    }

    public Json json() {
        return json;
    }

    public int maxTokensCap() {
        return maxTokensCap;
    }

    private static ApiException loading() {
        return new ApiException(503, "service_unavailable", "The model is still loading; retry shortly (see GET /ready).",
                null, "model_loading", "5");
    }

    /** Ids the model can take and emit: its logits' width, which may exceed the tokenizer's (padding ids). */
    public int vocabSize() {
        return Math.max(engine().model().config().vocabSize(), model().tokenizer().vocabSize());
    }

    public int maxModelLen() {
        return engine().config().maxModelLen();
    }

    /** The longest prompt + completion that can run: the context, or the whole KV cache if smaller. */
    public int tokenLimit() {
        return (int) Math.min(engine().config().maxModelLen(), engine().config().capacityTokens());
    }

    /** A fresh response id with OpenAI's prefix for the object type ("chatcmpl", "cmpl"). */
    public static String newId(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().replace("-", "");
    }

    public static long nowSeconds() {
        return System.currentTimeMillis() / 1000;
    }
}

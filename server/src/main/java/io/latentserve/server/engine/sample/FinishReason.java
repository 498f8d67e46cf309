package io.latentserve.server.engine.sample;

/** Why a sequence stopped, as the OpenAI API names it. */
public enum FinishReason {
    /** EOS, a stop token id or a stop string. */
    STOP("stop"),
    /** max_tokens or the model's context length. */
    LENGTH("length"),
    /** Cancelled: the client went away, or the server shut down before it finished. */
    ABORT("abort"),
    /** The engine failed while running it. */
    ERROR("error");

    private final String apiName;

    FinishReason(String apiName) {
        this.apiName = apiName;
    }

    /** The value of {@code finish_reason} in API responses. */
    public String apiName() {
        return apiName;
    }
}

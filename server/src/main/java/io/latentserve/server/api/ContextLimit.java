package io.latentserve.server.api;

/** How many tokens a prompt may be given, with OpenAI's wording when it may not have what it asked for. */
final class ContextLimit {
    private ContextLimit() {
    }

    /**
     * @param requested max_tokens as sent, or null for "as many as fit"
     * @return the tokens to allow, >= 1
     */
    static int maxTokens(ApiContext ctx, int promptTokens, Integer requested, String promptParam) {
        int context = ctx.maxModelLen();
        if (requested != null && requested > ctx.maxTokensCap()) {
            throw new ApiException(400, "invalid_request_error", "max_tokens is " + requested + ", but this server "
                    + "generates at most " + ctx.maxTokensCap() + " tokens per request (--max-tokens-cap).",
                    "max_tokens", null, null);
        }
        if (requested != null) {
            if (promptTokens + (long) requested > context) {
                throw new ApiException(400, "invalid_request_error", "This model's maximum context length is " + context
                        + " tokens. However, you requested " + (promptTokens + (long) requested) + " tokens ("
                        + promptTokens + " in the " + promptParam + ", " + requested + " in the completion). Please "
                        + "reduce the length of the " + promptParam + " or completion.", promptParam,
                        "context_length_exceeded", null);
            }
            return requested;
        }
        int room = ctx.tokenLimit() - promptTokens;
        if (room < 1) {
            throw new ApiException(400, "invalid_request_error", "This model's maximum context length is " + context
                    + " tokens. However, your " + promptParam + " resulted in " + promptTokens + " tokens"
                    + (ctx.tokenLimit() < context ? " and the KV cache holds " + ctx.tokenLimit() : "")
                    + ". Please reduce the length of the " + promptParam + ".", promptParam,
                    "context_length_exceeded", null);
        }
        return Math.min(room, ctx.maxTokensCap());
    }
}

package io.latentserve.server.api;

import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.latentserve.server.engine.sample.SamplingParams;

import java.util.List;

/** POST /v1/chat/completions: the messages rendered with the model's chat template, streamed or not. */
final class ChatCompletionsEndpoint {
    private final ApiContext ctx;

    ChatCompletionsEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    void handle(ServerRequest req, ServerResponse res) throws InterruptedException {
        ChatCompletionRequest r = ctx.json().read(Http.body(req), ChatCompletionRequest.class);
        ctx.model().check(r.model());
        Checks.unsupported(r.tools(), "tools", "this model is served without function calling");
        if (r.responseFormat() != null && !r.responseFormat().path("type").asText("text").equals("text")) {
            throw ApiException.invalid("response_format", "'response_format' of type '"
                    + r.responseFormat().path("type").asText() + "' is not supported by this server; use 'text'.");
        }
        boolean stream = Boolean.TRUE.equals(r.stream());
        boolean includeUsage = Checks.includeUsage(stream, r.streamOptions());
        int n = Checks.n(r.n());
        int topLogprobs = topLogprobs(r);
        Integer maxTokens = r.maxCompletionTokens() != null
                ? Checks.positive(r.maxCompletionTokens(), "max_completion_tokens")
                : Checks.positive(r.maxTokens(), "max_tokens");
        int vocab = ctx.vocabSize();
        SamplingParams sampling = r.sampling().toParams(topLogprobs, vocab);
        StopFields stop = StopFields.parse(r.stop(), r.stopTokenIds(), r.ignoreEos(), vocab);
        Prompt prompt = Prompts.chat(r.messages(), ctx.model(), true);

        String id = ApiContext.newId("chatcmpl");
        Submission submission = Submission.submit(ctx, id, List.of(prompt), n, sampling, stop, maxTokens, "messages");
        var view = new ChatView(ctx, id, ApiContext.nowSeconds(), topLogprobs, Boolean.TRUE.equals(r.returnTokenIds()),
                includeUsage);
        if (stream) {
            StreamDriver.run(res, ctx.json(), submission, view, includeUsage, true);
        } else {
            Http.json(res, ctx.json(), 200, view.completion(submission.collect()));
        }
    }

    /** -1 when logprobs are off; top_logprobs without logprobs is an error, as at OpenAI. */
    private static int topLogprobs(ChatCompletionRequest r) {
        boolean on = Boolean.TRUE.equals(r.logprobs());
        if (r.topLogprobs() != null && !on) {
            throw ApiException.invalid("top_logprobs", "Invalid 'top_logprobs': 'logprobs' must be set to true when "
                    + "'top_logprobs' is used.");
        }
        return on ? Checks.logprobs(r.topLogprobs() == null ? 0 : r.topLogprobs(), "top_logprobs") : -1;
    }
}

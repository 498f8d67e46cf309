package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.latentserve.server.engine.sample.SamplingParams;

import java.util.ArrayList;
import java.util.List;

/**
 * POST /v1/completions and /beta/completions: raw prompts (text or token ids, one or many), and with
 * {@code suffix} DeepSeek-Coder fill-in-the-middle built on the server.
 */
final class CompletionsEndpoint {
    private final ApiContext ctx;

    CompletionsEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    void handle(ServerRequest req, ServerResponse res) throws InterruptedException {
        CompletionRequest r = ctx.json().read(Http.body(req), CompletionRequest.class);
        ctx.model().check(r.model());
        boolean stream = Boolean.TRUE.equals(r.stream());
        boolean includeUsage = Checks.includeUsage(stream, r.streamOptions());
        int n = Checks.n(r.n());
        if (r.bestOf() != null && r.bestOf() != n) {
            throw ApiException.invalid("best_of", "best_of is not supported (only best_of = n, got best_of "
                    + r.bestOf() + " and n " + n + ").");
        }
        int logprobs = r.logprobs() == null ? -1 : Checks.logprobs(r.logprobs(), "logprobs");
        // OpenAI's default of 16 when absent, within the server's cap (only an explicit value over it is refused)
        int maxTokens = Checks.positive(r.maxTokens() == null
                ? Math.min(CompletionRequest.DEFAULT_MAX_TOKENS, ctx.maxTokensCap()) : r.maxTokens(), "max_tokens");
        int vocab = ctx.vocabSize();
        SamplingParams sampling = r.sampling().toParams(logprobs, vocab);
        StopFields stop = StopFields.parse(r.stop(), r.stopTokenIds(), r.ignoreEos(), vocab);
        List<Prompt> prompts = r.suffix() == null ? Prompts.completion(r.prompt(), ctx.model().tokenizer(), ctx.vocabSize())
                : fimPrompts(r.prompt(), r.suffix());

        String id = ApiContext.newId("cmpl");
        Submission submission = Submission.submit(ctx, id, prompts, n, sampling, stop, maxTokens, "prompt");
        var view = new CompletionView(ctx, id, ApiContext.nowSeconds(), logprobs, Boolean.TRUE.equals(r.echo()),
                Boolean.TRUE.equals(r.returnTokenIds()), includeUsage, submission.choices().size());
        if (stream) {
            StreamDriver.run(res, ctx.json(), submission, view, includeUsage, true);
        } else {
            Http.json(res, ctx.json(), 200, view.completion(submission.collect()));
        }
    }

    /** With a suffix, each text prompt is the code before the cursor. */
    private List<Prompt> fimPrompts(JsonNode prompt, String suffix) {
        List<String> prefixes = new ArrayList<>();
        if (prompt == null || prompt.isNull()) {
            prefixes.add("");
        } else if (prompt.isTextual()) {
            prefixes.add(prompt.asText());
        } else if (prompt.isArray() && !prompt.isEmpty()) {
            for (JsonNode p : prompt) {
                if (!p.isTextual()) {
                    throw ApiException.invalid("prompt", "With 'suffix' (fill-in-the-middle) the prompt must be text.");
                }
                prefixes.add(p.asText());
            }
        } else {
            throw ApiException.invalid("prompt", "With 'suffix' (fill-in-the-middle) the prompt must be text.");
        }
        List<Prompt> out = new ArrayList<>();
        for (String prefix : prefixes) {
            out.add(Prompts.fim(prefix, suffix, "", ctx.model().tokenizer(), ctx.model().name(), "suffix"));
        }
        return out;
    }
}

package io.latentserve.server.api;

import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.latentserve.server.engine.GenerationOutput;
import io.latentserve.server.engine.sample.FinishReason;
import io.latentserve.server.engine.sample.SampledToken;

import java.util.List;

/**
 * llama.cpp-compatible POST /infill (editor plugins such as llama.vim and llama.vscode) and POST /completion.
 * Streams are {@code data: {"content": ..., "stop": false}} lines ending with the full summary and no [DONE].
 */
final class LlamaCppEndpoints {
    private final ApiContext ctx;

    LlamaCppEndpoints(ApiContext ctx) {
        this.ctx = ctx;
    }

    void infill(ServerRequest req, ServerResponse res) throws InterruptedException {
        InfillRequest r = ctx.json().read(Http.body(req), InfillRequest.class);
        ctx.model().check(r.model());
        StringBuilder prefix = new StringBuilder();
        if (r.inputExtra() != null) {
            // DeepSeek-Coder's repository-level layout: each file as "#path\n<code>\n" ahead of the current one.
            for (InfillRequest.Extra e : r.inputExtra()) {
                if (e == null || e.text() == null) {
                    throw ApiException.invalid("input_extra", "Each input_extra entry needs a 'text'.");
                }
                prefix.append('#').append(e.filename() == null ? "tmp" : e.filename()).append('\n').append(e.text());
                if (!e.text().endsWith("\n")) {
                    prefix.append('\n');
                }
            }
        }
        prefix.append(r.inputPrefix() == null ? "" : r.inputPrefix());
        Prompt prompt = Prompts.fim(prefix.toString(), r.inputSuffix() == null ? "" : r.inputSuffix(),
                r.prompt() == null ? "" : r.prompt(), ctx.model().tokenizer(), ctx.model().name(), "input_prefix");
        run(res, prompt, r.sampling(), Boolean.TRUE.equals(r.stream()));
    }

    void completion(ServerRequest req, ServerResponse res) throws InterruptedException {
        LlamaCompletionRequest r = ctx.json().read(Http.body(req), LlamaCompletionRequest.class);
        ctx.model().check(r.model());
        List<Prompt> prompts = Prompts.completion(r.prompt(), ctx.model().tokenizer(), ctx.vocabSize());
        if (prompts.size() != 1) {
            throw ApiException.invalid("prompt", "/completion takes one prompt (a string or a list of token ids).");
        }
        run(res, prompts.getFirst(), r.sampling(), Boolean.TRUE.equals(r.stream()));
    }

    private void run(ServerResponse res, Prompt prompt, LlamaSampling sampling, boolean stream)
            throws InterruptedException {
        int vocab = ctx.vocabSize();
        var params = sampling.params(vocab);
        var stop = sampling.stop(vocab);
        Submission submission = Submission.submit(ctx, ApiContext.newId("llama"), List.of(prompt), 1, params, stop,
                sampling.maxTokens(), "prompt");
        View view = new View(ctx, stop, System.nanoTime());
        if (stream) {
            StreamDriver.run(res, ctx.json(), submission, view, false, false);
        } else {
            ChoiceResult c = submission.collect().getFirst();
            c.requireNoError();
            Http.json(res, ctx.json(), 200, view.summary(c.text(), c.last(), c.tokens()));
        }
    }

    /** Builds llama.cpp's replies; remembers the last token to tell an EOS stop from a stop-word one. */
    private static final class View implements ChunkFormat {
        private final ApiContext ctx;
        private final StopFields stop;
        private final long startNanos;
        private int lastToken = -1;

        View(ApiContext ctx, StopFields stop, long startNanos) {
            this.ctx = ctx;
            this.stop = stop;
            this.startNanos = startNanos;
        }

        @Override
        public List<Object> opening(Submission.Choice choice) {
            return List.of();
        }

        @Override
        public List<Object> output(Submission.Choice choice, GenerationOutput out) {
            if (!out.tokens().isEmpty()) {
                lastToken = out.tokens().getLast().tokenId();
            }
            if (!out.finished()) {
                return out.text().isEmpty() ? List.of() : List.of(new LlamaCompletion.Chunk(out.text(), false));
            }
            LlamaCompletion last = summary("", out, List.of());
            return out.text().isEmpty() ? List.of(last)
                    : List.of(new LlamaCompletion.Chunk(out.text(), false), last);
        }

        @Override
        public Object usage(Usage usage) {
            return null;
        }

        LlamaCompletion summary(String content, GenerationOutput last, List<SampledToken> tokens) {
            if (!tokens.isEmpty()) {
                lastToken = tokens.getLast().tokenId();
            }
            double ms = (System.nanoTime() - startNanos) / 1e6;
            int n = last.completionTokens();
            return new LlamaCompletion(content, true, ctx.model().name(), n, last.promptTokens(), last.cachedTokens(),
                    stopType(last.finishReason()), false,
                    new LlamaCompletion.Timings(last.promptTokens(), n, ms, ms > 0 ? n / (ms / 1000) : 0));
        }

        private String stopType(FinishReason reason) {
            return switch (reason) {
                case STOP -> lastToken == ctx.model().tokenizer().eosId() || stop.tokenIds().contains(lastToken)
                        ? "eos" : "word";
                case LENGTH -> "limit";
                case ABORT, ERROR -> "none";
            };
        }
    }
}

package io.latentserve.server.api;

import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.latentserve.model.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;

/** POST /tokenize and POST /detokenize (vLLM's shapes), with the exact rules the generation endpoints use. */
final class TokenizeEndpoints {
    /** The body of POST /detokenize. */
    public record DetokenizeRequest(String model, List<Integer> tokens) {
    }

    public record TokenizeResponse(List<Integer> tokens, int count, int maxModelLen) {
    }

    public record DetokenizeResponse(String prompt) {
    }

    private final ApiContext ctx;

    TokenizeEndpoints(ApiContext ctx) {
        this.ctx = ctx;
    }

    void tokenize(ServerRequest req, ServerResponse res) {
        TokenizeRequest r = ctx.json().read(Http.body(req), TokenizeRequest.class);
        ctx.model().check(r.model());
        if ((r.prompt() == null) == (r.messages() == null)) {
            throw ApiException.invalid(r.prompt() == null ? "prompt" : "messages",
                    "Send exactly one of 'prompt' (text) and 'messages' (a chat).");
        }
        Tokenizer tok = ctx.model().tokenizer();
        int[] ids;
        if (r.prompt() != null) {
            ids = tok.encode(r.prompt());
            if (!Boolean.FALSE.equals(r.addSpecialTokens())) {
                ids = Prompts.withBos(ids, tok);
            }
        } else {
            ids = Prompts.chat(r.messages(), ctx.model(), !Boolean.FALSE.equals(r.addGenerationPrompt())).ids();
        }
        Http.json(res, ctx.json(), 200, new TokenizeResponse(Arrays.stream(ids).boxed().toList(), ids.length,
                ctx.maxModelLen()));
    }

    void detokenize(ServerRequest req, ServerResponse res) {
        DetokenizeRequest r = ctx.json().read(Http.body(req), DetokenizeRequest.class);
        ctx.model().check(r.model());
        int[] ids = Prompts.checkIds(r.tokens(), ctx.vocabSize(), "tokens");
        Http.json(res, ctx.json(), 200, new DetokenizeResponse(ctx.model().tokenizer().decode(ids)));
    }
}

package io.latentserve.server.api;

import io.latentserve.model.tokenizer.Tokenizer;
import io.latentserve.server.engine.sample.SampledToken;
import io.latentserve.server.engine.sample.TopLogprob;

import java.util.ArrayList;
import java.util.List;

/** Token logprobs as the chat API shows them: token text, logprob and the token's UTF-8 bytes. */
final class LogprobFormat {
    /** What OpenAI reports for a token the model gives no chance at all (JSON has no -Infinity). */
    static final double FLOOR = -9999.0;

    private LogprobFormat() {
    }

    static double value(float logprob) {
        return Float.isFinite(logprob) ? logprob : FLOOR;
    }

    static List<Integer> bytes(Tokenizer tokenizer, int id) {
        byte[] b = tokenizer.tokenBytes(id);
        List<Integer> out = new ArrayList<>(b.length);
        for (byte x : b) {
            out.add(x & 0xFF);
        }
        return out;
    }

    /** @param top how many alternatives were asked for (the engine may hold more) */
    static ChatLogprobs chat(List<SampledToken> tokens, Tokenizer tokenizer, int top) {
        List<ChatLogprobs.TokenLogprob> content = new ArrayList<>(tokens.size());
        for (SampledToken t : tokens) {
            List<ChatLogprobs.TopLogprob> alternatives = new ArrayList<>();
            for (TopLogprob lp : t.top().subList(0, Math.min(top, t.top().size()))) {
                alternatives.add(new ChatLogprobs.TopLogprob(tokenizer.tokenText(lp.tokenId()), value(lp.logprob()),
                        bytes(tokenizer, lp.tokenId())));
            }
            content.add(new ChatLogprobs.TokenLogprob(tokenizer.tokenText(t.tokenId()), value(t.logprob()),
                    bytes(tokenizer, t.tokenId()), alternatives));
        }
        return new ChatLogprobs(content, null);
    }

    static List<Integer> ids(List<SampledToken> tokens) {
        return tokens.stream().map(SampledToken::tokenId).toList();
    }
}

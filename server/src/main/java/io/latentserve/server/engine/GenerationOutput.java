package io.latentserve.server.engine;

import io.latentserve.server.engine.sample.FinishReason;
import io.latentserve.server.engine.sample.SampledToken;

import java.util.List;

/**
 * What one engine step produced for one request: the new tokens, the text that may now be shown (stop
 * strings held back and removed), and, on the last output, why it finished.
 *
 * @param tokens            tokens generated in this step, with logprobs when the request asked for them
 * @param text              text to append for the client (may be empty)
 * @param finishReason      null while the request goes on
 * @param promptTokens      prompt length
 * @param completionTokens  tokens generated so far
 * @param cachedTokens      prompt tokens served from the prefix cache
 * @param error             set when finishReason is ERROR
 */
public record GenerationOutput(String requestId, List<SampledToken> tokens, String text, FinishReason finishReason,
                               int promptTokens, int completionTokens, int cachedTokens, String error) {
    public boolean finished() {
        return finishReason != null;
    }
}

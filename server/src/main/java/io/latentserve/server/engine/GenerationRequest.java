package io.latentserve.server.engine;

import io.latentserve.server.engine.sample.SamplingParams;
import io.latentserve.server.engine.sample.StopConditions;

/**
 * One sequence to generate. An OpenAI request with n > 1 becomes n of these (same prompt, so they share
 * the prompt's KV blocks through the prefix cache).
 *
 * @param requestId unique per sequence (e.g. "cmpl-…-0")
 */
public record GenerationRequest(String requestId, int[] promptTokens, SamplingParams sampling, StopConditions stop) {
    public GenerationRequest {
        if (promptTokens.length == 0) {
            throw new IllegalArgumentException("the prompt must contain at least one token");
        }
        if (stop.promptLength() != promptTokens.length) {
            throw new IllegalArgumentException("stop conditions were made for a prompt of " + stop.promptLength()
                    + " tokens, not " + promptTokens.length);
        }
    }
}

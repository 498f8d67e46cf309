package io.latentserve.server.engine.sample;

import java.util.List;

/**
 * The token chosen at one step. {@code logprob} is its log-probability under the raw model
 * distribution (NaN when the request asked for no logprobs); {@code top} holds the requested number
 * of most likely tokens, most likely first.
 */
public record SampledToken(int tokenId, float logprob, List<TopLogprob> top) {
    public SampledToken {
        top = List.copyOf(top);
    }
}

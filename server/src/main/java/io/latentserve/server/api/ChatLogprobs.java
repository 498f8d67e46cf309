package io.latentserve.server.api;

import java.util.List;

/** Chat logprobs: per generated token its text, logprob, UTF-8 bytes and the most likely alternatives. */
public record ChatLogprobs(List<TokenLogprob> content, String refusal) {

    public record TokenLogprob(String token, double logprob, List<Integer> bytes, List<TopLogprob> topLogprobs) {
    }

    public record TopLogprob(String token, double logprob, List<Integer> bytes) {
    }
}

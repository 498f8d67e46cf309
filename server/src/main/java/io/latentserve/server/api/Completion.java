package io.latentserve.server.api;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A text completion ({@code object: "text_completion"}), whole or as one streamed chunk; the usage-only chunk
 * of include_usage has empty choices.
 *
 * @param usage always present in a whole completion; in a stream as for {@link ChatChunk#usage()}
 */
public record Completion(String id, String object, long created, String model, List<Choice> choices,
                         @JsonInclude(JsonInclude.Include.NON_NULL) Optional<Usage> usage,
                         String systemFingerprint) {

    public Completion(String id, long created, String model, List<Choice> choices, Optional<Usage> usage) {
        this(id, "text_completion", created, model, choices, usage, null);
    }

    /**
     * @param tokenIds       generated ids (return_token_ids extension)
     * @param promptTokenIds the prompt's ids (return_token_ids extension; first chunk of a stream)
     */
    public record Choice(int index, String text, Logprobs logprobs, String finishReason,
                         @JsonInclude(JsonInclude.Include.NON_NULL) List<Integer> tokenIds,
                         @JsonInclude(JsonInclude.Include.NON_NULL) List<Integer> promptTokenIds) {
    }

    /** The legacy logprobs: parallel lists, alternatives as token text -> logprob, character offsets in the text. */
    public record Logprobs(List<String> tokens, List<Double> tokenLogprobs, List<Map<String, Double>> topLogprobs,
                           List<Integer> textOffset) {
    }
}

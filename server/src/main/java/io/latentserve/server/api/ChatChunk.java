package io.latentserve.server.api;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;
import java.util.Optional;

/**
 * One streamed chat event ({@code object: "chat.completion.chunk"}): a choice's role, a content delta, its
 * finish reason, or (include_usage) the final usage with empty choices.
 *
 * @param usage as OpenAI sends it: absent (null) without include_usage; with it {@code "usage": null}
 *              (Optional.empty()) in every chunk but the last, which carries the counts
 */
public record ChatChunk(String id, String object, long created, String model, List<Choice> choices,
                        @JsonInclude(JsonInclude.Include.NON_NULL) Optional<Usage> usage, String systemFingerprint) {

    public ChatChunk(String id, long created, String model, List<Choice> choices, Optional<Usage> usage) {
        this(id, "chat.completion.chunk", created, model, choices, usage, null);
    }

    public record Choice(int index, Delta delta, ChatLogprobs logprobs, String finishReason,
                         @JsonInclude(JsonInclude.Include.NON_NULL) List<Integer> tokenIds) {
    }

    /** Only the fields that changed: role first, then content; the finishing chunk's delta is empty. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content) {
    }
}

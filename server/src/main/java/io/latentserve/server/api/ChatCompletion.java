package io.latentserve.server.api;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/** A non-streamed chat completion ({@code object: "chat.completion"}). */
public record ChatCompletion(String id, String object, long created, String model, List<Choice> choices, Usage usage,
                             String systemFingerprint) {

    public ChatCompletion(String id, long created, String model, List<Choice> choices, Usage usage) {
        this(id, "chat.completion", created, model, choices, usage, null);
    }

    /** @param tokenIds the generated ids, only with the return_token_ids extension */
    public record Choice(int index, Message message, ChatLogprobs logprobs, String finishReason,
                         @JsonInclude(JsonInclude.Include.NON_NULL) List<Integer> tokenIds) {
    }

    public record Message(String role, String content, String refusal) {
    }
}

package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;

/**
 * The body of POST /v1/chat/completions. Absent fields are null. Extensions (vLLM's names): top_k, min_p,
 * repetition_penalty, stop_token_ids, ignore_eos, return_token_ids. {@code user} is accepted and ignored.
 */
public record ChatCompletionRequest(String model, List<ChatMessageIn> messages, Boolean stream,
                                    StreamOptions streamOptions, Integer n, Integer maxTokens,
                                    Integer maxCompletionTokens, Double temperature, Double topP, Integer topK,
                                    Double minP, Double presencePenalty, Double frequencyPenalty,
                                    Double repetitionPenalty, Map<String, Double> logitBias, Long seed, JsonNode stop,
                                    List<Integer> stopTokenIds, Boolean ignoreEos, Boolean logprobs,
                                    Integer topLogprobs, String user, JsonNode tools, JsonNode responseFormat,
                                    Boolean returnTokenIds) {

    SamplingFields sampling() {
        return new SamplingFields(temperature, topP, topK, minP, presencePenalty, frequencyPenalty,
                repetitionPenalty, logitBias, seed);
    }
}

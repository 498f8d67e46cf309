package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;

/** The body of llama.cpp's POST /completion: a prompt (text or token ids) and llama.cpp's sampling names. */
public record LlamaCompletionRequest(String model, JsonNode prompt, Integer nPredict, Double temperature,
                                     Integer topK, Double topP, Double minP, Double repeatPenalty,
                                     Double presencePenalty, Double frequencyPenalty, Long seed, JsonNode stop,
                                     Boolean stream, Boolean ignoreEos) {

    LlamaSampling sampling() {
        return new LlamaSampling(nPredict, temperature, topK, topP, minP, repeatPenalty, presencePenalty,
                frequencyPenalty, seed, stop, ignoreEos);
    }
}

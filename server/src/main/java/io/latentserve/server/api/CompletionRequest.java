package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;

/**
 * The body of POST /v1/completions (and /beta/completions). {@code prompt} is a string, a list of strings, a list
 * of token ids or a list of lists of token ids; with {@code suffix} the prompt is the code before the cursor and
 * the server builds the fill-in-the-middle prompt. Extensions as for chat.
 */
public record CompletionRequest(String model, JsonNode prompt, String suffix, Boolean stream,
                                StreamOptions streamOptions, Integer n, Integer bestOf, Integer maxTokens,
                                Double temperature, Double topP, Integer topK, Double minP, Double presencePenalty,
                                Double frequencyPenalty, Double repetitionPenalty, Map<String, Double> logitBias,
                                Long seed, JsonNode stop, List<Integer> stopTokenIds, Boolean ignoreEos,
                                Integer logprobs, Boolean echo, String user, Boolean returnTokenIds) {

    /** OpenAI's default for the legacy completions endpoint. */
    static final int DEFAULT_MAX_TOKENS = 16;

    SamplingFields sampling() {
        return new SamplingFields(temperature, topP, topK, minP, presencePenalty, frequencyPenalty,
                repetitionPenalty, logitBias, seed);
    }
}

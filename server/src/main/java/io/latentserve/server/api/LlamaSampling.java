package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.latentserve.server.engine.sample.SamplingParams;

import java.util.List;
import java.util.Map;

/**
 * llama.cpp's generation fields with llama.cpp's defaults (temperature 0.8, top_k 40, top_p 0.95, min_p 0.05;
 * n_predict -1 = until the context is full; seed -1 = random).
 */
record LlamaSampling(Integer nPredict, Double temperature, Integer topK, Double topP, Double minP,
                     Double repeatPenalty, Double presencePenalty, Double frequencyPenalty, Long seed, JsonNode stop,
                     Boolean ignoreEos) {

    SamplingParams params(int vocabSize) {
        SamplingFields f = new SamplingFields(or(temperature, 0.8), or(topP, 0.95), topK == null ? 40 : topK,
                or(minP, 0.05), presencePenalty, frequencyPenalty, repeatPenalty == null ? null : repeatPenalty,
                Map.of(), seed == null || seed < 0 ? null : seed);
        try {
            return f.toParams(0, vocabSize);
        } catch (ApiException e) {
            throw renamed(e);
        }
    }

    /** Errors name llama.cpp's field, not the OpenAI one it maps to. */
    private static ApiException renamed(ApiException e) {
        String param = "repetition_penalty".equals(e.param()) ? "repeat_penalty" : e.param();
        String message = e.getMessage().replace("repetition_penalty", "repeat_penalty");
        return new ApiException(e.status(), e.type(), message, param, e.code(), null);
    }

    StopFields stop(int vocabSize) {
        return StopFields.parse(stop, List.of(), ignoreEos, vocabSize);
    }

    /** The token limit: null for "until the context is full". */
    Integer maxTokens() {
        if (nPredict == null || nPredict == -1) {
            return null;
        }
        if (nPredict < 1) {
            throw ApiException.invalid("n_predict", "n_predict must be -1 (until the context is full) or at least 1, "
                    + "got " + nPredict);
        }
        return nPredict;
    }

    private static double or(Double value, double fallback) {
        return value == null ? fallback : value;
    }
}

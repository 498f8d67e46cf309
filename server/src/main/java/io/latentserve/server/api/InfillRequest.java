package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * The body of llama.cpp's POST /infill: the code around the cursor, other files as context, the start of the
 * middle already typed ({@code prompt}), and llama.cpp's sampling names (n_predict, repeat_penalty).
 */
public record InfillRequest(String model, String inputPrefix, String inputSuffix, List<Extra> inputExtra,
                            String prompt, Integer nPredict, Double temperature, Integer topK, Double topP,
                            Double minP, Double repeatPenalty, Double presencePenalty, Double frequencyPenalty,
                            Long seed, JsonNode stop, Boolean stream, Boolean ignoreEos) {

    /** Another file of the project, shown to the model before the code being completed. */
    public record Extra(String filename, String text) {
    }

    LlamaSampling sampling() {
        return new LlamaSampling(nPredict, temperature, topK, topP, minP, repeatPenalty, presencePenalty,
                frequencyPenalty, seed, stop, ignoreEos);
    }
}

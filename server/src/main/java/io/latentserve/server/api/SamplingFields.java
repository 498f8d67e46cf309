package io.latentserve.server.api;

import io.latentserve.server.engine.sample.SamplingParams;

import java.util.HashMap;
import java.util.Map;

/**
 * The sampling fields that chat and text completions share, as sent (null = absent), with OpenAI's defaults.
 * top_k, min_p and repetition_penalty are extensions (vLLM's names).
 */
record SamplingFields(Double temperature, Double topP, Integer topK, Double minP, Double presencePenalty,
                      Double frequencyPenalty, Double repetitionPenalty, Map<String, Double> logitBias, Long seed) {

    /**
     * The engine's parameters. {@code logprobs} is always at least 0 so every output carries its token ids
     * (usage counts, return_token_ids); whether logprobs are shown is the endpoint's business.
     */
    SamplingParams toParams(int logprobs, int vocabSize) {
        try {
            return new SamplingParams(or(temperature, 1.0), or(topP, 1.0), topK == null ? -1 : topK, or(minP, 0.0),
                    or(presencePenalty, 0.0), or(frequencyPenalty, 0.0), or(repetitionPenalty, 1.0),
                    bias(vocabSize), seed, Math.max(0, logprobs));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(paramOf(e.getMessage()), e.getMessage());
        }
    }

    private static double or(Double value, double fallback) {
        return value == null ? fallback : value;
    }

    /** logit_bias has token ids as string keys ({"50256": -100}), as JSON objects only allow strings. */
    private Map<Integer, Float> bias(int vocabSize) {
        Map<Integer, Float> out = new HashMap<>();
        if (logitBias == null) {
            return out;
        }
        for (Map.Entry<String, Double> e : logitBias.entrySet()) {
            int id;
            try {
                id = Integer.parseInt(e.getKey().trim());
            } catch (NumberFormatException x) {
                throw ApiException.invalid("logit_bias", "logit_bias keys must be token ids, got '" + e.getKey() + "'");
            }
            if (id < 0 || id >= vocabSize) {
                throw ApiException.invalid("logit_bias", "logit_bias key " + id + " is not a token id of this model "
                        + "(0.." + (vocabSize - 1) + ")");
            }
            Double v = e.getValue();
            if (v == null || !(v >= -100 && v <= 100)) {
                throw ApiException.invalid("logit_bias", "logit_bias[" + id + "] must be in [-100, 100], got " + v);
            }
            out.put(id, v.floatValue());
        }
        return out;
    }

    /** SamplingParams names the field first in its message ("top_p must be (0, 1], got 2.0"). */
    private static String paramOf(String message) {
        int space = message == null ? -1 : message.indexOf(' ');
        String first = space < 0 ? null : message.substring(0, space);
        return first != null && first.matches("[a-z_]+") ? first : null;
    }
}

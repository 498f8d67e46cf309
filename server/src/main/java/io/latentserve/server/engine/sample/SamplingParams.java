package io.latentserve.server.engine.sample;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * How one request turns logits into tokens. Ranges follow the OpenAI API; a bad value throws
 * IllegalArgumentException naming the field and its allowed range.
 *
 * @param temperature       0..2; 0 is greedy
 * @param topP              (0, 1]; 1 disables
 * @param topK              -1 or 0 disable, else >= 1
 * @param minP              0..1; 0 disables (relative to the most likely token)
 * @param presencePenalty   -2..2, over generated tokens
 * @param frequencyPenalty  -2..2, over generated tokens
 * @param repetitionPenalty > 0, 1 disables; over prompt and generated tokens (HF style)
 * @param logitBias         token id -> -100..100, added to the logit; -100 bans the token
 * @param seed              null for a fresh random seed
 * @param logprobs          top logprobs wanted, 0..20; 0 = only the chosen token's, -1 = none
 */
public record SamplingParams(double temperature, double topP, int topK, double minP,
                             double presencePenalty, double frequencyPenalty, double repetitionPenalty,
                             Map<Integer, Float> logitBias, Long seed, int logprobs) {

    /** Temperatures below this sample as greedy: dividing by them only amplifies rounding noise. */
    static final double GREEDY_TEMPERATURE = 1e-5;
    public static final int MAX_LOGPROBS = 20;

    public SamplingParams {
        check("temperature", temperature, 0, 2, "[0, 2]");
        if (!(topP > 0 && topP <= 1)) {
            throw range("top_p", topP, "(0, 1]");
        }
        if (topK < -1) {
            throw range("top_k", topK, "-1 or 0 (disabled) or >= 1");
        }
        check("min_p", minP, 0, 1, "[0, 1]");
        check("presence_penalty", presencePenalty, -2, 2, "[-2, 2]");
        check("frequency_penalty", frequencyPenalty, -2, 2, "[-2, 2]");
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw range("repetition_penalty", repetitionPenalty, "> 0 (1 disables)");
        }
        if (logprobs < -1 || logprobs > MAX_LOGPROBS) {
            throw range("top_logprobs", logprobs, "0..20, or -1 for none");
        }
        logitBias = copyBias(logitBias);
    }

    private static Map<Integer, Float> copyBias(Map<Integer, Float> bias) {
        if (bias == null) {
            return Map.of();
        }
        Map<Integer, Float> copy = new HashMap<>();
        for (Map.Entry<Integer, Float> e : bias.entrySet()) {
            if (e.getKey() == null || e.getKey() < 0) {
                throw new IllegalArgumentException("logit_bias keys must be token ids >= 0, got " + e.getKey());
            }
            Float v = e.getValue();
            if (v == null || !(v >= -100 && v <= 100)) {
                throw new IllegalArgumentException("logit_bias[" + e.getKey() + "] must be in [-100, 100], got " + v);
            }
            copy.put(e.getKey(), v);
        }
        return Map.copyOf(copy);
    }

    private static void check(String field, double value, double min, double max, String range) {
        if (!(value >= min && value <= max)) {
            throw range(field, value, range);
        }
    }

    private static IllegalArgumentException range(String field, Object value, String range) {
        return new IllegalArgumentException(field + " must be " + range + ", got " + value);
    }

    /** Plain sampling from the model's distribution (temperature 1, nothing truncated or penalized). */
    public static SamplingParams defaults() {
        return new SamplingParams(1, 1, -1, 0, 0, 0, 1, Map.of(), null, -1);
    }

    /** Argmax decoding. */
    public static SamplingParams greedy() {
        return defaults().withTemperature(0);
    }

    public SamplingParams withTemperature(double t) {
        return new SamplingParams(t, topP, topK, minP, presencePenalty, frequencyPenalty, repetitionPenalty,
                logitBias, seed, logprobs);
    }

    public SamplingParams withTruncation(int k, double p, double minProbability) {
        return new SamplingParams(temperature, p, k, minProbability, presencePenalty, frequencyPenalty,
                repetitionPenalty, logitBias, seed, logprobs);
    }

    public SamplingParams withPenalties(double presence, double frequency, double repetition) {
        return new SamplingParams(temperature, topP, topK, minP, presence, frequency, repetition,
                logitBias, seed, logprobs);
    }

    public SamplingParams withLogitBias(Map<Integer, Float> bias) {
        return new SamplingParams(temperature, topP, topK, minP, presencePenalty, frequencyPenalty,
                repetitionPenalty, bias, seed, logprobs);
    }

    public SamplingParams withSeed(Long s) {
        return new SamplingParams(temperature, topP, topK, minP, presencePenalty, frequencyPenalty,
                repetitionPenalty, logitBias, s, logprobs);
    }

    public SamplingParams withLogprobs(int n) {
        return new SamplingParams(temperature, topP, topK, minP, presencePenalty, frequencyPenalty,
                repetitionPenalty, logitBias, seed, n);
    }

    public boolean isGreedy() {
        return temperature < GREEDY_TEMPERATURE;
    }

    /**
     * A new generator for one request, to be used by that request only: with a seed, its tokens then
     * do not depend on which other requests share the batch.
     */
    public RandomGenerator newRandom() {
        return seed == null ? new SplittableRandom() : new SplittableRandom(seed);
    }
}

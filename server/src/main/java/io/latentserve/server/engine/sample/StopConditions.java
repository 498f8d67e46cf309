package io.latentserve.server.engine.sample;

import java.util.List;
import java.util.Set;

/**
 * When one request stops generating.
 *
 * @param stopStrings    texts that end generation; never emitted themselves; none may be empty
 * @param stopTokenIds   token ids that end generation (their text is not emitted)
 * @param eosTokenIds    the model's end-of-sequence ids (from generation_config; usually one)
 * @param ignoreEos      keep generating through EOS (benchmarks)
 * @param maxTokens      generated tokens allowed, >= 1
 * @param promptLength   prompt tokens, counted against the context length
 * @param maxModelLength the context length: prompt + generated tokens never exceed it
 */
public record StopConditions(List<String> stopStrings, Set<Integer> stopTokenIds, Set<Integer> eosTokenIds,
                             boolean ignoreEos, int maxTokens, int promptLength, int maxModelLength) {

    public StopConditions {
        stopStrings = List.copyOf(stopStrings);
        stopTokenIds = Set.copyOf(stopTokenIds);
        eosTokenIds = Set.copyOf(eosTokenIds);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max_tokens must be >= 1, got " + maxTokens);
        }
        if (promptLength < 0 || promptLength >= maxModelLength) {
            throw new IllegalArgumentException("the prompt (" + promptLength + " tokens) must be shorter than the context length ("
                    + maxModelLength + " tokens)");
        }
    }

    /** Only the length limits: no stop strings or ids, no EOS. */
    public static StopConditions lengthOnly(int maxTokens, int promptLength, int maxModelLength) {
        return new StopConditions(List.of(), Set.of(), Set.of(), true, maxTokens, promptLength, maxModelLength);
    }
}

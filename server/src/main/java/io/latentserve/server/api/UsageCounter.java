package io.latentserve.server.api;

import io.latentserve.server.engine.GenerationOutput;

import java.util.HashMap;
import java.util.Map;

/**
 * Adds up the final outputs of a request's choices. A prompt counts once however many choices share it
 * (as OpenAI counts n > 1), and its cached tokens are the fewest any of its choices found in the cache:
 * siblings hit the blocks the first one just computed, which the client did not get from the cache.
 */
final class UsageCounter {
    private final Map<Integer, Integer> promptTokens = new HashMap<>();
    private final Map<Integer, Integer> cachedTokens = new HashMap<>();
    private int completionTokens;

    void add(int promptIndex, GenerationOutput last) {
        promptTokens.put(promptIndex, last.promptTokens());
        cachedTokens.merge(promptIndex, last.cachedTokens(), Math::min);
        completionTokens += last.completionTokens();
    }

    Usage usage() {
        int prompt = promptTokens.values().stream().mapToInt(Integer::intValue).sum();
        int cached = cachedTokens.values().stream().mapToInt(Integer::intValue).sum();
        return Usage.of(prompt, completionTokens, cached);
    }
}

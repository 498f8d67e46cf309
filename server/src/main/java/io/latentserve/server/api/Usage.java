package io.latentserve.server.api;

/**
 * Token counts of one request, in OpenAI's shape plus DeepSeek's cache fields: prompt tokens served from the
 * prefix cache are both {@code prompt_tokens_details.cached_tokens} and {@code prompt_cache_hit_tokens}.
 */
public record Usage(int promptTokens, int completionTokens, int totalTokens, PromptTokensDetails promptTokensDetails,
                    int promptCacheHitTokens, int promptCacheMissTokens) {

    public record PromptTokensDetails(int cachedTokens) {
    }

    public static Usage of(int promptTokens, int completionTokens, int cachedTokens) {
        return new Usage(promptTokens, completionTokens, promptTokens + completionTokens,
                new PromptTokensDetails(cachedTokens), cachedTokens, promptTokens - cachedTokens);
    }
}

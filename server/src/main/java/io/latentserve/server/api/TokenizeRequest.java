package io.latentserve.server.api;

import java.util.List;

/**
 * POST /tokenize: either {@code prompt} (text; add_special_tokens, default true, adds BOS as completions do) or
 * {@code messages} (rendered with the chat template; add_generation_prompt defaults to true).
 */
public record TokenizeRequest(String model, String prompt, List<ChatMessageIn> messages, Boolean addSpecialTokens,
                              Boolean addGenerationPrompt) {
}

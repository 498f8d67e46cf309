package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.latentserve.model.tokenizer.ChatMessage;

import java.util.Set;

/**
 * One message of a chat request. {@code content} is a string, a list of content parts (only "text" parts
 * are supported) or null (e.g. an assistant turn that only called tools).
 */
public record ChatMessageIn(String role, JsonNode content, String name) {
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    /** The message as the chat template sees it; "developer" (OpenAI's newer name) becomes "system". */
    ChatMessage toChatMessage(int index) {
        String where = "messages[" + index + "]";
        if (role == null) {
            throw ApiException.invalid(where + ".role", "Missing required parameter: '" + where + ".role'.");
        }
        if (!ROLES.contains(role)) {
            throw ApiException.invalid(where + ".role", "Invalid value: '" + role + "'. Supported values are: "
                    + "'system', 'developer', 'user', 'assistant' and 'tool'.");
        }
        return new ChatMessage(role.equals("developer") ? "system" : role, text(where + ".content"));
    }

    private String text(String where) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (!content.isArray()) {
            throw ApiException.invalid(where, "Invalid type for '" + where + "': expected a string or an array of "
                    + "content parts.");
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < content.size(); i++) {
            JsonNode part = content.get(i);
            String type = part.path("type").asText("");
            if (!type.equals("text") || !part.path("text").isTextual()) {
                throw ApiException.invalid(where + "[" + i + "]", "Only text content parts ({\"type\": \"text\", "
                        + "\"text\": ...}) are supported by this model, got type '" + type + "'.");
            }
            sb.append(part.get("text").asText());
        }
        return sb.toString();
    }
}

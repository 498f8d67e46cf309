package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;

/** Range checks of request fields that the engine's own records do not cover, with OpenAI's wording. */
final class Checks {
    /** OpenAI's limit on n. */
    static final int MAX_N = 128;

    private Checks() {
    }

    static int n(Integer n) {
        if (n == null) {
            return 1;
        }
        if (n < 1 || n > MAX_N) {
            throw ApiException.invalid("n", "Invalid 'n': integer must be between 1 and " + MAX_N + ", got " + n + ".");
        }
        return n;
    }

    /** A token limit must be at least 1 when given; null stays null (the endpoint's default applies). */
    static Integer positive(Integer value, String param) {
        if (value != null && value < 1) {
            throw ApiException.invalid(param, "Invalid '" + param + "': integer must be at least 1, got " + value + ".");
        }
        return value;
    }

    static int logprobs(int value, String param) {
        if (value < 0 || value > 20) {
            throw ApiException.invalid(param, "Invalid '" + param + "': integer must be between 0 and 20, got "
                    + value + ".");
        }
        return value;
    }

    static boolean includeUsage(boolean stream, StreamOptions options) {
        if (options == null) {
            return false;
        }
        if (!stream) {
            throw ApiException.invalid("stream_options", "The 'stream_options' parameter is only allowed when "
                    + "'stream' is enabled.");
        }
        return Boolean.TRUE.equals(options.includeUsage());
    }

    /** Fields that would change the answer's meaning but that this server does not implement: refuse, not ignore. */
    static void unsupported(JsonNode value, String param, String why) {
        if (value != null && !value.isNull() && !(value.isArray() && value.isEmpty())) {
            throw ApiException.invalid(param, "'" + param + "' is not supported by this server: " + why + ".");
        }
    }
}

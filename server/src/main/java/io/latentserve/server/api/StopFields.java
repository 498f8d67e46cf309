package io.latentserve.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.latentserve.model.tokenizer.Tokenizer;
import io.latentserve.server.engine.sample.StopConditions;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * When generation stops, as sent: {@code stop} (a string or a list of strings), and the extensions
 * {@code stop_token_ids} and {@code ignore_eos}. Parsed once per request into the parts the engine needs.
 */
record StopFields(List<String> strings, Set<Integer> tokenIds, boolean ignoreEos) {

    static StopFields parse(JsonNode stop, List<Integer> stopTokenIds, Boolean ignoreEos, int vocabSize) {
        return new StopFields(strings(stop), ids(stopTokenIds, vocabSize), Boolean.TRUE.equals(ignoreEos));
    }

    private static List<String> strings(JsonNode stop) {
        List<String> out = new ArrayList<>();
        if (stop == null || stop.isNull()) {
            return out;
        }
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray()) {
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw ApiException.invalid("stop", "Invalid type for 'stop': expected a string or an array of strings.");
                }
                out.add(s.asText());
            }
        } else {
            throw ApiException.invalid("stop", "Invalid type for 'stop': expected a string or an array of strings.");
        }
        if (out.stream().anyMatch(String::isEmpty)) {
            throw ApiException.invalid("stop", "stop strings must not be empty");
        }
        return out;
    }

    private static Set<Integer> ids(List<Integer> ids, int vocabSize) {
        Set<Integer> out = new HashSet<>();
        if (ids == null) {
            return out;
        }
        for (Integer id : ids) {
            if (id == null || id < 0 || id >= vocabSize) {
                throw ApiException.invalid("stop_token_ids", "stop_token_ids must be token ids of this model (0.."
                        + (vocabSize - 1) + "), got " + id);
            }
            out.add(id);
        }
        return out;
    }

    StopConditions conditions(Tokenizer tokenizer, int maxTokens, int promptLength, int maxModelLen) {
        Set<Integer> eos = tokenizer.eosId() >= 0 ? Set.of(tokenizer.eosId()) : Set.of();
        return new StopConditions(strings, tokenIds, eos, ignoreEos, maxTokens, promptLength, maxModelLen);
    }
}

package io.latentserve.server.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Map;

/**
 * JSON in and out of the API with one strictly configured mapper: snake_case names, unknown fields ignored
 * (SDKs send extras), but no silent coercion of a known field's type ("1" is not a number, 1.5 not an
 * integer), so that a wrong type is a 400 naming the field rather than a guess.
 */
public final class Json {
    private final ObjectMapper mapper;

    public Json() {
        JsonMapper m = JsonMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .addModule(new Jdk8Module()) // Optional.empty() is written as null: "usage": null in stream chunks
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
        // Numbers and booleans are not strings either.
        m.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        this.mapper = m;
    }

    public ObjectMapper mapper() {
        return mapper;
    }

    /** Reads a request body; malformed JSON or a field of the wrong type becomes a 400 naming the field. */
    public <T> T read(byte[] body, Class<T> type) {
        if (body.length == 0) {
            throw ApiException.invalid(null, "The request body is empty; expected a JSON object.");
        }
        try {
            T value = mapper.readValue(body, type);
            if (value == null) { // the body was the JSON literal null
                throw ApiException.invalid(null, "The request body must be a JSON object.");
            }
            return value;
        } catch (MismatchedInputException e) {
            throw wrongType(e);
        } catch (JsonMappingException e) {
            throw ApiException.invalid(path(e), "Invalid value" + where(e) + ": " + e.getOriginalMessage());
        } catch (JacksonException e) {
            throw ApiException.invalid(null, "We could not parse the JSON body of your request: "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public byte[] write(Object value) {
        try {
            return mapper.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    public String writeString(Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    private static ApiException wrongType(MismatchedInputException e) {
        String path = path(e);
        if (path == null) {
            return ApiException.invalid(null, "The request body must be a JSON object.");
        }
        return ApiException.invalid(path, "Invalid type for '" + path + "': expected " + describe(e.getTargetType())
                + ".");
    }

    private static String where(JsonMappingException e) {
        String path = path(e);
        return path == null ? "" : " for '" + path + "'";
    }

    /** The JSON path of the failing value in OpenAI's style: messages[0].content. */
    static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.isEmpty() ? null : sb.toString();
    }

    private static String describe(Class<?> type) {
        if (type == null) {
            return "another type";
        }
        if (type == Double.class || type == Float.class || type == double.class || type == float.class) {
            return "a number";
        }
        if (type == Integer.class || type == Long.class || type == int.class || type == long.class) {
            return "an integer";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "a boolean";
        }
        if (type == String.class) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "an array";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord() || JsonNode.class.isAssignableFrom(type)) {
            return "an object";
        }
        return "a value of another type";
    }
}

package io.latentserve.model.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON header of a safetensors file, parsed and checked against the size of the data section that follows
 * it. Every problem becomes a CheckpointException naming the file and, where there is one, the tensor, so that a
 * damaged download is reported before any view into the mapped file is handed out.
 */
final class SafetensorsHeader {

    /** Where a tensor's bytes lie, relative to the first byte after the header (end exclusive). */
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    /** Shared JSON reader; duplicate keys would let two readers see different tensors, so they are an error. */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final String METADATA_KEY = "__metadata__";

    private final Path file;
    private final long dataSize;
    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    private SafetensorsHeader(Path file, long dataSize) {
        this.file = file;
        this.dataSize = dataSize;
    }

    /**
     * Parses and validates the header bytes.
     *
     * @param dataSize bytes in the file after the header, which every tensor must fit in
     */
    static SafetensorsHeader parse(Path file, byte[] headerBytes, long dataSize) {
        SafetensorsHeader header = new SafetensorsHeader(file, dataSize);
        header.readEntries(toJson(file, headerBytes));
        header.checkNoOverlap();
        return header;
    }

    /** Tensors in header order. */
    List<Entry> entries() {
        return Collections.unmodifiableList(entries);
    }

    Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    private static JsonNode toJson(Path file, byte[] headerBytes) {
        String text;
        try {
            // Decode strictly ourselves: Jackson would guess UTF-16/32 from the first bytes and replace bad sequences.
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(headerBytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file + ": safetensors header is not valid UTF-8", e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            throw new CheckpointException(file + ": safetensors header is not valid JSON: " + describe(e), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file + ": safetensors header must be a JSON object, got "
                    + (root == null ? "nothing" : root.getNodeType()));
        }
        return root;
    }

    /** Jackson's message and position, without its "[Source: REDACTED ...]" boilerplate. */
    static String describe(JacksonException e) {
        String message = e.getOriginalMessage().replaceAll("\\[Source: [^;\\]]*; ", "[");
        return e.getLocation() == null ? message
                : message + " (at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
    }

    private void readEntries(JsonNode root) {
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals(METADATA_KEY)) {
                readMetadata(field.getValue());
            } else {
                entries.add(readEntry(field.getKey(), field.getValue()));
            }
        }
    }

    private void readMetadata(JsonNode node) {
        if (node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            throw new CheckpointException(file + ": " + METADATA_KEY + " must be a JSON object, got " + node.getNodeType());
        }
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (!field.getValue().isTextual()) {
                throw new CheckpointException(file + ": " + METADATA_KEY + " value '" + field.getKey()
                        + "' must be a string, got " + field.getValue().getNodeType());
            }
            metadata.put(field.getKey(), field.getValue().textValue());
        }
    }

    private Entry readEntry(String name, JsonNode node) {
        if (!node.isObject()) {
            throw tensorError(name, "entry must be a JSON object, got " + node.getNodeType());
        }
        DType dtype = readDtype(name, required(name, node, "dtype"));
        long[] shape = readLongs(name, required(name, node, "shape"), "shape");
        for (long d : shape) {
            if (d < 0) {
                throw tensorError(name, "shape " + Arrays.toString(shape) + " has a negative dimension");
            }
        }
        long[] offsets = readLongs(name, required(name, node, "data_offsets"), "data_offsets");
        if (offsets.length != 2 || offsets[0] < 0 || offsets[0] > offsets[1]) {
            throw tensorError(name, "data_offsets " + Arrays.toString(offsets)
                    + " must be [begin, end] with 0 <= begin <= end");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end > dataSize) {
            throw tensorError(name, "data_offsets [" + begin + ", " + end + "] run past the end of the data section ("
                    + dataSize + " bytes): the file is truncated or the header is wrong");
        }
        long expected = byteLength(name, dtype, shape);
        if (end - begin != expected) {
            throw tensorError(name, "holds " + (end - begin) + " bytes but " + dtype + Arrays.toString(shape)
                    + " needs " + expected);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private JsonNode required(String name, JsonNode node, String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw tensorError(name, "entry has no '" + key + "'");
        }
        return v;
    }

    private DType readDtype(String name, JsonNode node) {
        if (!node.isTextual()) {
            throw tensorError(name, "'dtype' must be a string, got " + node.getNodeType());
        }
        DType dtype = DType.fromSafetensors(node.textValue());
        if (dtype == null) {
            throw tensorError(name, "unknown dtype '" + node.textValue() + "'");
        }
        return dtype;
    }

    private long[] readLongs(String name, JsonNode node, String key) {
        if (!node.isArray()) {
            throw tensorError(name, "'" + key + "' must be an array of integers, got " + node.getNodeType());
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw tensorError(name, "'" + key + "' must be an array of 64-bit integers, element " + i + " is " + v);
            }
            values[i] = v.longValue();
        }
        return values;
    }

    /** dtype size × product(shape), refusing shapes whose byte count does not fit in a long. */
    private long byteLength(String name, DType dtype, long[] shape) {
        try {
            long n = dtype.byteSize();
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        } catch (ArithmeticException e) {
            throw tensorError(name, "shape " + Arrays.toString(shape) + " of " + dtype
                    + " is too large: its byte count overflows a 64-bit integer");
        }
    }

    /** Two tensors sharing bytes would alias each other's weights; empty tensors share nothing. */
    private void checkNoOverlap() {
        List<Entry> byBegin = new ArrayList<>(entries);
        byBegin.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Entry furthest = null;
        for (Entry e : byBegin) {
            if (e.begin() == e.end()) {
                continue;
            }
            if (furthest != null && e.begin() < furthest.end()) {
                throw tensorError(e.name(), "bytes [" + e.begin() + ", " + e.end() + ") overlap tensor '"
                        + furthest.name() + "' at [" + furthest.begin() + ", " + furthest.end() + ")");
            }
            if (furthest == null || e.end() > furthest.end()) {
                furthest = e;
            }
        }
    }

    private CheckpointException tensorError(String name, String problem) {
        return new CheckpointException(file + ": tensor '" + name + "': " + problem);
    }
}

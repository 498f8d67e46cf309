package io.latentserve.model.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes safetensors files the way HuggingFace's writer does: {@code __metadata__} {"format":"pt"} first,
 * tensors packed in the order added, header padded with spaces to a multiple of 8 so that data stays aligned.
 * Used by tests and by the demo-model generator; tensors are held on the heap until written.
 *
 * <pre>{@code
 * new SafetensorsWriter()
 *         .addFloats("model.norm.weight", DType.BF16, new long[] {64}, values)
 *         .write(dir.resolve("model.safetensors"));
 * }</pre>
 */
public final class SafetensorsWriter {

    /** One tensor to write: little-endian row-major bytes, exactly dtype size × product(shape) of them. */
    public record Tensor(String name, DType dtype, long[] shape, byte[] data) {
        public Tensor {
            if (name == null || name.isEmpty() || name.equals("__metadata__")) {
                throw new IllegalArgumentException("bad tensor name '" + name + "'");
            }
            shape = shape.clone();
            long expected = dtype.byteSize();
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(shape));
                }
                expected = Math.multiplyExact(expected, d);
            }
            if (data.length != expected) {
                throw new IllegalArgumentException(name + ": " + dtype + Arrays.toString(shape) + " needs " + expected
                        + " bytes, got " + data.length);
            }
        }

        /** Encodes float values as F32, F16 or BF16 (BF16 rounded to nearest even). */
        public static Tensor ofFloats(String name, DType dtype, long[] shape, float[] values) {
            return new Tensor(name, dtype, shape, Floats.toBytes(dtype, values));
        }
    }

    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>(Map.of("format", "pt"));

    public SafetensorsWriter add(Tensor tensor) {
        if (tensors.putIfAbsent(tensor.name(), tensor) != null) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " added twice");
        }
        return this;
    }

    public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] data) {
        return add(new Tensor(name, dtype, shape, data));
    }

    public SafetensorsWriter addFloats(String name, DType dtype, long[] shape, float[] values) {
        return add(Tensor.ofFloats(name, dtype, shape, values));
    }

    /** Adds or replaces a {@code __metadata__} entry (format=pt is there from the start). */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** The tensors added so far, in order. */
    public List<Tensor> tensors() {
        return List.copyOf(tensors.values());
    }

    /** Writes the file, replacing any file of that name. */
    public void write(Path file) {
        byte[] header = header();
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            out.write(ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
            out.write(header);
            for (Tensor t : tensors.values()) {
                out.write(t.data());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** The JSON header as UTF-8, space-padded to a multiple of 8 bytes. */
    private byte[] header() {
        ObjectNode root = SafetensorsHeader.JSON.createObjectNode();
        ObjectNode meta = root.putObject("__metadata__");
        metadata.forEach(meta::put);
        long offset = 0;
        for (Tensor t : tensors.values()) {
            ObjectNode entry = root.putObject(t.name());
            entry.put("dtype", t.dtype().name());
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + t.data().length);
            offset += t.data().length;
        }
        byte[] json;
        try {
            json = SafetensorsHeader.JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a safetensors header", e);
        }
        int padded = (json.length + 7) & ~7;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    /**
     * Writes tensors as {@code shards} files model-0000k-of-0000n.safetensors (contiguous runs, in order,
     * none empty) plus {@value ShardedCheckpoint#INDEX_FILE}. Returns the index path.
     */
    public static Path writeSharded(Path dir, List<Tensor> tensors, int shards) {
        if (shards < 1 || shards > tensors.size()) {
            throw new IllegalArgumentException("cannot split " + tensors.size() + " tensors into " + shards + " shards");
        }
        List<SafetensorsWriter> writers = new ArrayList<>();
        for (int k = 0; k < shards; k++) {
            writers.add(new SafetensorsWriter());
        }
        ObjectNode index = SafetensorsHeader.JSON.createObjectNode();
        ObjectNode meta = index.putObject("metadata");
        ObjectNode weightMap = index.putObject("weight_map");
        long totalSize = 0;
        for (int i = 0; i < tensors.size(); i++) {
            // i * shards / n gives every shard a contiguous, non-empty run when n >= shards.
            int shard = (int) ((long) i * shards / tensors.size());
            Tensor t = tensors.get(i);
            if (weightMap.has(t.name())) {
                throw new IllegalArgumentException("tensor " + t.name() + " given twice");
            }
            writers.get(shard).add(t);
            weightMap.put(t.name(), shardName(shard, shards));
            totalSize += t.data().length;
        }
        meta.put("total_size", totalSize);
        try {
            Files.createDirectories(dir);
            for (int k = 0; k < shards; k++) {
                writers.get(k).write(dir.resolve(shardName(k, shards)));
            }
            Path indexFile = dir.resolve(ShardedCheckpoint.INDEX_FILE);
            Files.write(indexFile, SafetensorsHeader.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(index));
            return indexFile;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write sharded checkpoint in " + dir, e);
        }
    }

    /** HuggingFace's shard naming, 1-based: model-00001-of-00003.safetensors. */
    static String shardName(int zeroBased, int count) {
        return String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", zeroBased + 1, count);
    }

    @Override
    public String toString() {
        return "SafetensorsWriter[" + tensors.size() + " tensors]";
    }
}

package io.latentserve.model.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A llama.cpp GGUF file (versions 2 and 3, either byte order), memory-mapped: typed metadata and the tensor table.
 * The metadata is parsed eagerly at {@link #open}; tensor data stays in the mapping until {@link #close}.
 * Every malformed or truncated file ends in a {@link GgufException} that names the file and the key or tensor.
 */
public final class GgufFile implements AutoCloseable {
    public static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAX_DIMS = 4;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final int version;
    private final ByteOrder order;
    private final Map<String, GgufValue> metadata;
    private final List<GgufTensorInfo> tensors;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment mapped, int version, ByteOrder order,
                     Map<String, GgufValue> metadata, List<GgufTensorInfo> tensors, int alignment, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        this.version = version;
        this.order = order;
        this.metadata = metadata;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    /** Maps and parses the file; a GgufException names the file and what is wrong with it. */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return parse(path, arena, seg);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new GgufException("GGUF file " + path + " does not exist", e);
        } catch (IOException e) {
            arena.close();
            throw new GgufException("GGUF file " + path + ": cannot be read: " + e, e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment seg) {
        GgufReader r = new GgufReader(path, seg, ByteOrder.LITTLE_ENDIAN);
        r.context("magic");
        int[] magic = {r.u8(), r.u8(), r.u8(), r.u8()};
        if (magic[0] != 'G' || magic[1] != 'G' || magic[2] != 'U' || magic[3] != 'F') {
            throw r.error("not a GGUF file: the first 4 bytes are not \"GGUF\"");
        }
        r.context("version");
        long v = r.u32();
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        int swapped = Integer.reverseBytes((int) v);
        if (v != 2 && v != 3 && swapped >= 1 && swapped <= 3) {
            // A big-endian file: its version reads as 0x0N000000 in little-endian order.
            order = ByteOrder.BIG_ENDIAN;
            v = swapped;
            r = new GgufReader(path, seg, order);
            r.seek(8);
        }
        if (v == 1) {
            throw r.error("GGUF version 1 (32-bit counts) is not supported; convert the file with a newer llama.cpp");
        }
        if (v != 2 && v != 3) {
            throw r.error("unsupported GGUF version " + v + " (this reader knows 2 and 3)");
        }
        r.context("tensor count");
        long tensorCount = r.count("tensor count", 24);
        r.context("metadata count");
        long kvCount = r.count("metadata count", 13);
        Map<String, GgufValue> meta = GgufMetadataParser.parse(r, kvCount);

        int alignment = DEFAULT_ALIGNMENT;
        GgufValue al = meta.get("general.alignment");
        if (al != null) {
            long a = al.type().isInteger() && !al.isArray() ? (Long) al.raw() : -1;
            if (a <= 0 || a > (1 << 30) || Long.bitCount(a) != 1) {
                throw new GgufException("GGUF file " + path + ": metadata key general.alignment = " + al
                        + " is not a positive power of two");
            }
            alignment = (int) a;
        }
        List<GgufTensorInfo> infos = GgufTensorTable.parse(r, tensorCount, alignment, MAX_DIMS);
        long dataOffset = (r.position() + alignment - 1) / alignment * alignment;
        GgufTensorTable.checkData(path, infos, dataOffset, seg.byteSize());
        return new GgufFile(path, arena, seg, (int) v, order, Collections.unmodifiableMap(meta), infos,
                alignment, dataOffset);
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public ByteOrder byteOrder() {
        return order;
    }

    /** The value of {@code general.alignment}, or 32. */
    public int alignment() {
        return alignment;
    }

    /** Where the tensor data section starts, in bytes from the start of the file. */
    public long dataOffset() {
        return dataOffset;
    }

    /** Metadata keys in file order. */
    public Set<String> keys() {
        return metadata.keySet();
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public Optional<GgufValue> find(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    /** The value, or a GgufException naming the file and the missing key. */
    public GgufValue get(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) {
            throw new GgufException("GGUF file " + path + ": metadata key " + key + " is missing");
        }
        return v;
    }

    public String getString(String key) {
        return (String) scalar(key, "a string", GgufValueType.STRING == get(key).type()).raw();
    }

    public long getLong(String key) {
        GgufValue v = scalar(key, "an integer", get(key).type().isInteger());
        long x = (Long) v.raw();
        if (v.type() == GgufValueType.UINT64 && x < 0) {
            throw typeError(key, v, "an integer below 2^63");
        }
        return x;
    }

    public int getInt(String key) {
        long x = getLong(key);
        if (x != (int) x) {
            throw typeError(key, get(key), "a 32-bit integer");
        }
        return (int) x;
    }

    public double getDouble(String key) {
        GgufValue v = scalar(key, "a number", get(key).type().isFloat() || get(key).type().isInteger());
        return v.raw() instanceof Long l ? l : (Double) v.raw();
    }

    public float getFloat(String key) {
        return (float) getDouble(key);
    }

    public boolean getBoolean(String key) {
        return (Boolean) scalar(key, "a bool", get(key).type() == GgufValueType.BOOL).raw();
    }

    public String[] getStringArray(String key) {
        return ((String[]) array(key, GgufValueType.STRING == get(key).elementType(), "strings")).clone();
    }

    public long[] getLongArray(String key) {
        return ((long[]) array(key, isIntegerArray(key), "integers")).clone();
    }

    /** An integer array as int[]; a value outside the int range is an error naming the key and index. */
    public int[] getIntArray(String key) {
        long[] a = (long[]) array(key, isIntegerArray(key), "integers");
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            if (a[i] != (int) a[i]) {
                throw new GgufException("GGUF file " + path + ": metadata key " + key + "[" + i + "] = "
                        + a[i] + " does not fit a 32-bit integer");
            }
            out[i] = (int) a[i];
        }
        return out;
    }

    /** A float array (or an integer array, converted) as float[]. */
    public float[] getFloatArray(String key) {
        GgufValue v = get(key);
        boolean numeric = v.elementType() != null && (v.elementType().isFloat() || v.elementType().isInteger());
        Object a = array(key, numeric, "numbers");
        float[] out = new float[v.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a instanceof long[] l ? l[i] : (float) ((double[]) a)[i];
        }
        return out;
    }

    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    public Optional<GgufTensorInfo> tensor(String name) {
        return tensors.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /** The bytes of a tensor of this file (valid until {@link #close}); needs a ggml type this reader knows. */
    public MemorySegment tensorData(GgufTensorInfo t) {
        if (t.byteSize() < 0) {
            throw new GgufException("GGUF file " + path + ": tensor " + t.name() + " has ggml type " + t.ggmlType()
                    + ", whose size this reader does not know");
        }
        return mapped.asSlice(dataOffset + t.offset(), t.byteSize());
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + metadata.size() + " keys, " + tensors.size() + " tensors]";
    }

    private boolean isIntegerArray(String key) {
        GgufValueType e = get(key).elementType();
        return e != null && e.isInteger();
    }

    private GgufValue scalar(String key, String expected, boolean ok) {
        GgufValue v = get(key);
        if (!ok || v.isArray()) {
            throw typeError(key, v, expected);
        }
        return v;
    }

    private Object array(String key, boolean ok, String expected) {
        GgufValue v = get(key);
        if (!ok || !v.isArray()) {
            throw typeError(key, v, "an array of " + expected);
        }
        return v.raw();
    }

    private GgufException typeError(String key, GgufValue v, String expected) {
        String has = v.isArray() ? "an array of " + v.elementType() : v.type().toString();
        return new GgufException("GGUF file " + path + ": metadata key " + key + " holds " + has
                + ", expected " + expected);
    }
}

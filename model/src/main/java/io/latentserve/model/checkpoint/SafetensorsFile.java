package io.latentserve.model.checkpoint;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One .safetensors file, memory-mapped whole: each tensor is a read-only slice of the mapping, so weights are
 * paged in by the OS on first use and never copied onto the Java heap. The mapping belongs to a shared arena
 * (views may be read from any thread) and is released by {@link #close()}.
 */
public final class SafetensorsFile implements TensorStore {

    /** The reference implementation's limit; a larger length is a corrupt or hostile file, not a real header. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ValueLayout.OfLong U64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final Arena arena;
    private final Map<String, TensorView> tensors;
    private final Map<String, String> metadata;
    private boolean closed;

    private SafetensorsFile(Path file, Arena arena, Map<String, TensorView> tensors, Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Maps the file and checks its header; throws CheckpointException naming the file on any problem. */
    public static SafetensorsFile open(Path file) {
        Arena arena = Arena.ofShared();
        try {
            return map(file, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SafetensorsFile map(Path file, Arena arena) {
        if (Files.isDirectory(file)) {
            throw new CheckpointException(file + ": is a folder, not a .safetensors file");
        }
        MemorySegment segment;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < Long.BYTES) {
                throw new CheckpointException(file + ": file is " + size
                        + " bytes, too short for a safetensors header (8-byte length first)");
            }
            segment = channel.map(MapMode.READ_ONLY, 0, size, arena);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": no such file", e);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot map file: " + e.getMessage(), e);
        }

        long headerLength = segment.get(U64_LE, 0);
        // Compared unsigned: a u64 with its top bit set is a huge length, not a negative one.
        if (Long.compareUnsigned(headerLength, MAX_HEADER_BYTES) > 0) {
            throw new CheckpointException(file + ": header length " + Long.toUnsignedString(headerLength)
                    + " is above the 100 MB limit: not a safetensors file, or a corrupt one");
        }
        long dataStart = Long.BYTES + headerLength;
        if (dataStart > segment.byteSize()) {
            throw new CheckpointException(file + ": header length " + headerLength + " runs past the end of the file ("
                    + segment.byteSize() + " bytes): the file is truncated or not a safetensors file");
        }
        byte[] headerBytes = segment.asSlice(Long.BYTES, headerLength).toArray(ValueLayout.JAVA_BYTE);
        SafetensorsHeader header = SafetensorsHeader.parse(file, headerBytes, segment.byteSize() - dataStart);

        Map<String, TensorView> views = new LinkedHashMap<>();
        for (SafetensorsHeader.Entry e : header.entries()) {
            MemorySegment data = segment.asSlice(dataStart + e.begin(), e.end() - e.begin());
            views.put(e.name(), new TensorView(e.name(), e.dtype(), e.shape(), data, file));
        }
        return new SafetensorsFile(file, arena, Collections.unmodifiableMap(views), header.metadata());
    }

    @Override
    public Path location() {
        return file;
    }

    /** The header's {@code __metadata__} entries (e.g. format=pt); empty when it has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names in header order, including those of dtypes the models cannot compute with. */
    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    /** Every tensor, in header order. */
    public Collection<TensorView> tensors() {
        return tensors.values();
    }

    @Override
    public Optional<TensorView> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** Unmaps the file; any view read afterwards throws IllegalStateException. Safe to call twice. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + file + ", " + tensors.size() + " tensors]";
    }
}

package io.latentserve.model.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A bounds-checked cursor over a mapped GGUF file. Every read first checks that the bytes are there, so a truncated
 * or corrupt file ends in a GgufException naming the file and what was being read ({@link #context}), never in an
 * IndexOutOfBoundsException from the segment.
 */
final class GgufReader {
    private final Path path;
    private final MemorySegment data;
    private final ValueLayout.OfShort u16;
    private final ValueLayout.OfInt u32;
    private final ValueLayout.OfLong u64;
    private final ValueLayout.OfFloat f32;
    private final ValueLayout.OfDouble f64;
    private long pos;
    /** What is being read, for error messages ("metadata key tokenizer.ggml.tokens"). */
    private String context = "header";

    GgufReader(Path path, MemorySegment data, ByteOrder order) {
        this.path = path;
        this.data = data;
        this.u16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order);
        this.u32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(order);
        this.u64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(order);
        this.f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(order);
        this.f64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(order);
    }

    long position() {
        return pos;
    }

    long size() {
        return data.byteSize();
    }

    long remaining() {
        return data.byteSize() - pos;
    }

    void context(String what) {
        this.context = what;
    }

    /** An exception naming the file, the read position and the current context. */
    GgufException error(String problem) {
        return new GgufException("GGUF file " + path + ": " + problem + " (while reading " + context
                + " at byte " + pos + " of " + data.byteSize() + ")");
    }

    private long take(long n) {
        if (n < 0 || n > remaining()) {
            throw error(n < 0 ? "negative length " + n : "truncated: needs " + n + " more bytes, "
                    + remaining() + " left");
        }
        long at = pos;
        pos += n;
        return at;
    }

    int u8() {
        return Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, take(1)));
    }

    int i8() {
        return data.get(ValueLayout.JAVA_BYTE, take(1));
    }

    int u16() {
        return Short.toUnsignedInt(data.get(u16, take(2)));
    }

    int i16() {
        return data.get(u16, take(2));
    }

    long u32() {
        return Integer.toUnsignedLong(data.get(u32, take(4)));
    }

    int i32() {
        return data.get(u32, take(4));
    }

    /** A 64-bit value as stored (UINT64 values above Long.MAX_VALUE come back negative). */
    long i64() {
        return data.get(u64, take(8));
    }

    float f32() {
        return data.get(f32, take(4));
    }

    double f64() {
        return data.get(f64, take(8));
    }

    boolean bool() {
        int b = u8();
        if (b > 1) {
            throw error("bool value " + b + " is neither 0 nor 1");
        }
        return b == 1;
    }

    /** A count or length that must fit the rest of the file at {@code minBytesEach} bytes per item. */
    long count(String what, long minBytesEach) {
        long n = i64();
        if (n < 0 || (minBytesEach > 0 && n > remaining() / minBytesEach)) {
            throw error("truncated or corrupt: " + what + " " + Long.toUnsignedString(n)
                    + " does not fit in the " + remaining() + " bytes left");
        }
        return n;
    }

    /**
     * A GGUF string: u64 byte length, then UTF-8 bytes. Decoded leniently (U+FFFD for bad bytes), as llama.cpp
     * does not validate them either; a corrupt length is caught by the bounds check.
     */
    String string() {
        long n = count("string length", 1);
        if (n > Integer.MAX_VALUE - 8) {
            throw error("string of " + n + " bytes is too long");
        }
        byte[] bytes = data.asSlice(take(n), n).toArray(ValueLayout.JAVA_BYTE);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Moves to {@code offset}, which must lie inside the file. */
    void seek(long offset) {
        if (offset < 0 || offset > data.byteSize()) {
            throw error("offset " + offset + " lies outside the file");
        }
        pos = offset;
    }
}

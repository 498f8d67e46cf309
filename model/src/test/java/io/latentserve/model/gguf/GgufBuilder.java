package io.latentserve.model.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Writes small GGUF files for tests, field by field, so that tests can also write malformed ones. */
final class GgufBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteOrder order;

    GgufBuilder(ByteOrder order) {
        this.order = order;
    }

    GgufBuilder() {
        this(ByteOrder.LITTLE_ENDIAN);
    }

    /** Magic, version and the two counts. */
    GgufBuilder header(int version, long tensors, long kvs) {
        raw("GGUF".getBytes(StandardCharsets.US_ASCII));
        return u32(version).u64(tensors).u64(kvs);
    }

    GgufBuilder raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    GgufBuilder u8(int v) {
        out.write(v);
        return this;
    }

    GgufBuilder u32(long v) {
        out.writeBytes(ByteBuffer.allocate(4).order(order).putInt((int) v).array());
        return this;
    }

    GgufBuilder u64(long v) {
        out.writeBytes(ByteBuffer.allocate(8).order(order).putLong(v).array());
        return this;
    }

    GgufBuilder f32(float v) {
        out.writeBytes(ByteBuffer.allocate(4).order(order).putFloat(v).array());
        return this;
    }

    GgufBuilder str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).raw(b);
    }

    GgufBuilder kvString(String key, String value) {
        return str(key).u32(GgufValueType.STRING.id()).str(value);
    }

    GgufBuilder kvU32(String key, long value) {
        return str(key).u32(GgufValueType.UINT32.id()).u32(value);
    }

    GgufBuilder kvStrings(String key, String... values) {
        str(key).u32(GgufValueType.ARRAY.id()).u32(GgufValueType.STRING.id()).u64(values.length);
        for (String v : values) {
            str(v);
        }
        return this;
    }

    GgufBuilder tensor(String name, int type, long offset, long... dims) {
        str(name).u32(dims.length);
        for (long d : dims) {
            u64(d);
        }
        return u32(type).u64(offset);
    }

    /** Zero bytes up to the next multiple of {@code alignment}. */
    GgufBuilder pad(int alignment) {
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}

package io.latentserve.model.gguf;

import java.util.LinkedHashMap;
import java.util.Map;

/** Reads the metadata key-value section of a GGUF file into typed {@link GgufValue}s. */
final class GgufMetadataParser {
    private GgufMetadataParser() {
    }

    static Map<String, GgufValue> parse(GgufReader r, long count) {
        Map<String, GgufValue> meta = new LinkedHashMap<>();
        for (long i = 0; i < count; i++) {
            r.context("the key of metadata entry #" + i);
            String key = r.string();
            r.context("metadata key " + key);
            if (meta.containsKey(key)) {
                throw r.error("duplicate metadata key " + key);
            }
            GgufValueType type = type(r, r.u32());
            meta.put(key, type == GgufValueType.ARRAY ? array(r) : new GgufValue(type, null, scalar(r, type)));
        }
        return meta;
    }

    private static GgufValueType type(GgufReader r, long id) {
        GgufValueType t = GgufValueType.byId(id);
        if (t == null) {
            throw r.error("unknown metadata value type " + id);
        }
        return t;
    }

    private static Object scalar(GgufReader r, GgufValueType t) {
        return switch (t) {
            case UINT8 -> (long) r.u8();
            case INT8 -> (long) r.i8();
            case UINT16 -> (long) r.u16();
            case INT16 -> (long) r.i16();
            case UINT32 -> r.u32();
            case INT32 -> (long) r.i32();
            case UINT64, INT64 -> r.i64();
            case FLOAT32 -> (double) r.f32();
            case FLOAT64 -> r.f64();
            case BOOL -> r.bool();
            case STRING -> r.string();
            case ARRAY -> throw new IllegalStateException("arrays are read by array()");
        };
    }

    private static GgufValue array(GgufReader r) {
        GgufValueType e = type(r, r.u32());
        if (e == GgufValueType.ARRAY) {
            // The format allows nested arrays, but no llama.cpp key uses them and gguf.c rejects them too.
            throw r.error("nested arrays are not supported");
        }
        long count = r.count("array length", e.minBytes());
        if (count > Integer.MAX_VALUE - 8) {
            throw r.error("array of " + count + " values is too long for this reader");
        }
        int n = (int) count;
        Object values;
        if (e == GgufValueType.STRING) {
            String[] a = new String[n];
            for (int i = 0; i < n; i++) {
                a[i] = r.string();
            }
            values = a;
        } else if (e == GgufValueType.BOOL) {
            boolean[] a = new boolean[n];
            for (int i = 0; i < n; i++) {
                a[i] = r.bool();
            }
            values = a;
        } else if (e.isFloat()) {
            double[] a = new double[n];
            for (int i = 0; i < n; i++) {
                a[i] = (Double) scalar(r, e);
            }
            values = a;
        } else {
            long[] a = new long[n];
            for (int i = 0; i < n; i++) {
                a[i] = (Long) scalar(r, e);
            }
            values = a;
        }
        return new GgufValue(GgufValueType.ARRAY, e, values);
    }
}

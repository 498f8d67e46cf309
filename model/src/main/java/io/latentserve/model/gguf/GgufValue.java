package io.latentserve.model.gguf;

import java.util.Arrays;

/**
 * One metadata value. Scalars are held as Long (every integer type; UINT64 keeps its bit pattern), Double (both
 * float types), Boolean or String. Arrays are held as a primitive Java array: long[] for integers, double[] for
 * floats, boolean[] or String[]; {@link #elementType()} says what the file stored.
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    /** The value; arrays come back as copies, so the file's metadata cannot be changed through them. */
    @Override
    public Object value() {
        return switch (value) {
            case long[] a -> a.clone();
            case double[] a -> a.clone();
            case boolean[] a -> a.clone();
            case String[] a -> a.clone();
            default -> value;
        };
    }

    /** The stored value itself, for this package's readers (which copy before handing arrays out). */
    Object raw() {
        return value;
    }

    public boolean isArray() {
        return type == GgufValueType.ARRAY;
    }

    /** Number of elements of an array value (1 for a scalar). */
    public int length() {
        return switch (value) {
            case long[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            case String[] a -> a.length;
            default -> 1;
        };
    }

    @Override
    public String toString() {
        String shown = switch (value) {
            case long[] a -> a.length + " × " + elementType + " " + Arrays.toString(Arrays.copyOf(a, Math.min(4, a.length)));
            case double[] a -> a.length + " × " + elementType + " " + Arrays.toString(Arrays.copyOf(a, Math.min(4, a.length)));
            case boolean[] a -> a.length + " × BOOL";
            case String[] a -> a.length + " × STRING " + Arrays.toString(Arrays.copyOf(a, Math.min(4, a.length)));
            default -> String.valueOf(value);
        };
        return type + ": " + shown;
    }
}

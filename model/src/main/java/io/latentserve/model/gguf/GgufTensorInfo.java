package io.latentserve.model.gguf;

import java.util.Arrays;

/**
 * One tensor entry of a GGUF file. {@code dims} are in ggml order (dims[0] is the fastest-varying, the reverse of
 * PyTorch's shape); {@code offset} is relative to the start of the data section; {@code byteSize} is -1 when the
 * ggml type is unknown to this reader.
 */
public record GgufTensorInfo(String name, int ggmlType, long[] dims, long offset, long byteSize) {

    public GgufTensorInfo {
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    /** The element type, or null when this reader does not know the id. */
    public GgmlType type() {
        return GgmlType.byId(ggmlType);
    }

    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && ggmlType == t.ggmlType
                && Arrays.equals(dims, t.dims) && offset == t.offset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        GgmlType t = type();
        return name + " " + (t == null ? "type#" + ggmlType : t.name()) + " " + Arrays.toString(dims) + " @" + offset;
    }
}

package io.latentserve.model.gguf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Reads the tensor-info section of a GGUF file and checks each tensor's data range against the file. */
final class GgufTensorTable {
    private GgufTensorTable() {
    }

    static List<GgufTensorInfo> parse(GgufReader r, long count, int alignment, int maxDims) {
        List<GgufTensorInfo> infos = new ArrayList<>((int) Math.min(count, 1 << 16));
        Set<String> names = new HashSet<>();
        for (long i = 0; i < count; i++) {
            r.context("the name of tensor info #" + i);
            String name = r.string();
            r.context("tensor info " + name);
            if (!names.add(name)) {
                throw r.error("duplicate tensor name " + name);
            }
            long nDims = r.u32();
            if (nDims < 1 || nDims > maxDims) {
                throw r.error("tensor has " + nDims + " dimensions (1 to " + maxDims + " allowed)");
            }
            long[] dims = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = r.i64();
                if (dims[d] < 0) {
                    throw r.error("dimension " + d + " is negative: " + dims[d]);
                }
                try {
                    elements = Math.multiplyExact(elements, dims[d]);
                } catch (ArithmeticException e) {
                    throw r.error("element count overflows 64 bits");
                }
            }
            int type = r.i32();
            long offset = r.i64();
            if (offset < 0 || offset % alignment != 0) {
                throw r.error("data offset " + offset + " is not a non-negative multiple of the alignment "
                        + alignment);
            }
            infos.add(new GgufTensorInfo(name, type, dims, offset, byteSize(r, type, elements)));
        }
        return List.copyOf(infos);
    }

    private static long byteSize(GgufReader r, int typeId, long elements) {
        GgmlType t = GgmlType.byId(typeId);
        if (t == null) {
            return -1;
        }
        long size;
        try {
            size = t.byteSize(elements);
        } catch (ArithmeticException e) {
            throw r.error("tensor byte size overflows 64 bits");
        }
        if (size < 0) {
            throw r.error(elements + " elements are not a whole number of " + t + " blocks of " + t.blockSize());
        }
        return size;
    }

    /** Each tensor's bytes must lie inside the file: a file cut short ends in a clear error, not a bad read. */
    static void checkData(Path path, List<GgufTensorInfo> infos, long dataOffset, long fileSize) {
        for (GgufTensorInfo t : infos) {
            long size = Math.max(t.byteSize(), 0);
            if (dataOffset > fileSize || t.offset() > fileSize - dataOffset
                    || size > fileSize - dataOffset - t.offset()) {
                throw new GgufException("GGUF file " + path + ": truncated: the data of tensor " + t.name()
                        + " (" + size + " bytes at data offset " + t.offset() + ") ends past the end of the file ("
                        + fileSize + " bytes, data section at " + dataOffset + ")");
            }
        }
    }
}

package io.latentserve.model.checkpoint;

import java.util.Locale;

/** Element types of safetensors (and the ones we map from GGUF). Sizes in bytes per element. */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2),
    I64(8), I32(4), I16(2), I8(1), U8(1), U16(2), U32(4), U64(8), BOOL(1),
    F8_E4M3(1), F8_E5M2(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }

    /** Whether the CPU and CUDA backends can compute with weights of this type. */
    public boolean isSupportedWeightType() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** Parses a safetensors dtype string ("BF16", "F32", ...); null when unknown. */
    public static DType fromSafetensors(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}

package io.latentserve.model.backend;

import java.util.Locale;

/**
 * The element type of the paged KV cache (vLLM's --kv-cache-dtype). F32 holds exactly the f32 rows the model
 * writes (the CPU reference and the golden tests are exact with it). BF16 rounds each value to the nearest
 * bf16 (ties to even) when it is written and widens it exactly when read: half the memory, so twice the
 * blocks in the same budget and half the cache bytes a memory-bound decode step moves.
 */
public enum KvCacheDtype {
    F32("f32", 4),
    BF16("bf16", 2);

    private final String cliName;
    private final int bytesPerValue;

    KvCacheDtype(String cliName, int bytesPerValue) {
        this.cliName = cliName;
        this.bytesPerValue = bytesPerValue;
    }

    /** Bytes one cached value takes. */
    public int bytesPerValue() {
        return bytesPerValue;
    }

    /** The name the command line and logs use: "f32" or "bf16". */
    public String cliName() {
        return cliName;
    }

    /** Parses "f32"/"float32" or "bf16"/"bfloat16" (any case). */
    public static KvCacheDtype parse(String text) {
        if (text != null) {
            switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "f32", "float32" -> {
                    return F32;
                }
                case "bf16", "bfloat16" -> {
                    return BF16;
                }
                default -> {
                }
            }
        }
        throw new IllegalArgumentException("unknown KV cache dtype '" + text
                + "': expected f32 (or float32) or bf16 (or bfloat16)");
    }

    @Override
    public String toString() {
        return cliName;
    }
}

package io.latentserve.model.random;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Counter-based random values: element i of a tensor is a pure function of (seed, i), so the same weights
 * can be made on the host here, on the GPU by {@code ls_fill_hashed}, and in PyTorch by
 * cuda-kernels/bench/hf_peer.py — bit for bit, with no file and no upload. The hash is "lowbias32"
 * (a 32-bit xorshift-multiply finaliser); only 32-bit integer and two f32 operations are used so every
 * language computes the same bits: u = top 24 bits / 2^24, value = mean + amplitude · (2u − 1), rounded to
 * bf16 by truncation.
 *
 * @param seed      the tensor's seed (see {@link #forTensor})
 * @param mean      centre of the uniform distribution
 * @param amplitude half its width
 */
public record HashFill(int seed, float mean, float amplitude) {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Tensors are indexed with 32-bit counters; every DeepSeek weight has fewer elements. */
    public static final long MAX_ELEMENTS = 1L << 32;

    /** lowbias32 of the seed mixed with the element index. */
    public static int mix(int seed, int index) {
        int h = seed ^ (index * 0x9E3779B1);
        h ^= h >>> 16;
        h *= 0x7FEB352D;
        h ^= h >>> 15;
        h *= 0x846CA68B;
        h ^= h >>> 16;
        return h;
    }

    /** The f32 value of element index (before rounding to bf16). */
    public float value(long index) {
        float u = (mix(seed, (int) index) >>> 8) * 0x1p-24f;
        float centred = 2f * u - 1f;          // exact: multiples of 2^-23 in [-1, 1)
        float scaled = amplitude * centred;   // one rounding
        return mean + scaled;                 // and another: no fused multiply-add anywhere
    }

    /** The bf16 bits of element index: the f32 value truncated. */
    public short bf16(long index) {
        return (short) (Float.floatToRawIntBits(value(index)) >>> 16);
    }

    /** Writes count bf16 values, little-endian, into seg. */
    public void fillBf16(MemorySegment seg, long count) {
        checkCount(count);
        for (long i = 0; i < count; i++) {
            seg.setAtIndex(SHORT_LE, i, bf16(i));
        }
    }

    public static void checkCount(long count) {
        if (count < 0 || count > MAX_ELEMENTS) {
            throw new IllegalArgumentException(count + " elements: hashed fills index at most 2^32 elements");
        }
    }

    /**
     * The fill of a checkpoint tensor by its HuggingFace name: seed = FNV-1a of the name's UTF-8 bytes
     * xor the model seed; RMSNorm scales 1 ± 0.1·√3 (std 0.1), the embedding std 1, every other matrix std
     * 1/√fan_in (its last dimension), as {@link RandomTensorStore} chooses.
     */
    public static HashFill forTensor(String name, long[] shape, int modelSeed) {
        int seed = fnv1a(name) ^ modelSeed;
        float sqrt3 = (float) Math.sqrt(3.0);
        if (CheckpointShapes.isNorm(name)) {
            return new HashFill(seed, 1f, 0.1f * sqrt3);
        }
        if (name.endsWith("embed_tokens.weight")) {
            return new HashFill(seed, 0f, sqrt3);
        }
        return new HashFill(seed, 0f, (float) (sqrt3 / Math.sqrt(shape[shape.length - 1])));
    }

    /** 32-bit FNV-1a over the UTF-8 bytes. */
    public static int fnv1a(String s) {
        int h = 0x811C9DC5;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xFF;
            h *= 0x01000193;
        }
        return h;
    }
}

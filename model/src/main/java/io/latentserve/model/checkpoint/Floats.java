package io.latentserve.model.checkpoint;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Conversions between float and the 16-bit float formats of checkpoints, and widening of small tensors. */
public final class Floats {

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The largest array the JVM reliably allocates (a few header words below Integer.MAX_VALUE). */
    private static final long MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    private Floats() {
    }

    /** BF16 is the upper half of an IEEE f32, so widening is exact. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Rounds to the nearest BF16, ties to even; NaN stays NaN (with its sign), overflow becomes infinity. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            // Truncating could clear every mantissa bit (turning NaN into infinity): force a quiet-NaN bit.
            return (short) ((bits >>> 16) | 0x0040);
        }
        // Adding 0x7FFF plus the lowest kept bit rounds the dropped half up exactly when it is above the
        // halfway point, or at it with an odd kept part; a carry into the exponent is the correct result.
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** Rounds to the nearest IEEE half, ties to even (Java's own conversion). */
    public static short floatToF16(float value) {
        return Float.floatToFloat16(value);
    }

    /** Encodes values as little-endian F32, F16 or BF16 bytes, as a checkpoint stores them. */
    public static byte[] toBytes(DType dtype, float[] values) {
        ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(values.length, dtype.byteSize()))
                .order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> out.asFloatBuffer().put(values);
            case F16 -> {
                for (float v : values) {
                    out.putShort(floatToF16(v));
                }
            }
            case BF16 -> {
                for (float v : values) {
                    out.putShort(floatToBf16(v));
                }
            }
            default -> throw new IllegalArgumentException("cannot encode floats as " + dtype + " (F32, F16 or BF16 only)");
        }
        return out.array();
    }

    /**
     * Widens a whole F32, F16 or BF16 tensor into a new float[] on the heap: meant for tests and small tensors
     * (norm weights), not for streaming model weights.
     */
    public static float[] toFloats(TensorView tensor) {
        DType dtype = tensor.dtype();
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new CheckpointException("tensor " + tensor.name() + " in " + tensor.file() + " is " + dtype
                    + ", not a float type (F32, F16, BF16)");
        }
        long count = tensor.elementCount();
        if (count < 0 || count > MAX_ARRAY_LENGTH) {
            throw new CheckpointException("tensor " + tensor.name() + " in " + tensor.file() + " has " + count
                    + " elements, too many for one float[]");
        }
        MemorySegment data = tensor.data();
        if (data.byteSize() != count * dtype.byteSize()) {
            throw new CheckpointException("tensor " + tensor.name() + " in " + tensor.file() + " holds "
                    + data.byteSize() + " bytes, but " + tensor + " needs " + count * dtype.byteSize());
        }
        int n = (int) count;
        float[] out = new float[n];
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32_LE, 0, out, 0, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = f16ToFloat(data.getAtIndex(U16_LE, i));
                }
            }
            default -> {
                for (int i = 0; i < n; i++) {
                    out[i] = bf16ToFloat(data.getAtIndex(U16_LE, i));
                }
            }
        }
        return out;
    }
}

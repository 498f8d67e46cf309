package io.latentserve.model.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.latentserve.model.checkpoint.RawFiles.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FloatsTest {

    @TempDir
    Path dir;

    private static short bf16(float f) {
        return Floats.floatToBf16(f);
    }

    @Test
    void bf16IsTheUpperHalfOfF32() {
        assertEquals((short) 0x3F80, bf16(1f));
        assertEquals((short) 0xC000, bf16(-2f));
        assertEquals(1f, Floats.bf16ToFloat((short) 0x3F80));
        assertEquals(-2f, Floats.bf16ToFloat((short) 0xC000));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(Floats.bf16ToFloat(bf16(-0f))));
        assertEquals(Float.POSITIVE_INFINITY, Floats.bf16ToFloat(bf16(Float.POSITIVE_INFINITY)));
        assertEquals(Float.NEGATIVE_INFINITY, Floats.bf16ToFloat(bf16(Float.NEGATIVE_INFINITY)));
    }

    @Test
    void bf16RoundsToNearestEven() {
        float ulp = 0x1p-7f; // spacing of bf16 values in [1, 2)
        assertEquals(1f, Floats.bf16ToFloat(bf16(1f + ulp / 2)), "tie rounds down to the even 1.0");
        assertEquals(1f + 2 * ulp, Floats.bf16ToFloat(bf16(1f + 3 * ulp / 2)), "tie rounds up to the even 1+2ulp");
        assertEquals(1f + ulp, Floats.bf16ToFloat(bf16(Math.nextUp(1f + ulp / 2))), "just above a tie rounds up");
        assertEquals(1f, Floats.bf16ToFloat(bf16(Math.nextDown(1f + ulp / 2))));
        assertEquals(-1f, Floats.bf16ToFloat(bf16(-1f - ulp / 2)), "negative ties are symmetric");
        assertEquals(Float.POSITIVE_INFINITY, Floats.bf16ToFloat(bf16(Float.MAX_VALUE)), "overflow rounds to infinity");
        float tiny = Float.MIN_VALUE * 3; // subnormal: bits 0x3 round to 0
        assertEquals(0f, Floats.bf16ToFloat(bf16(tiny)));
    }

    @Test
    void bf16KeepsNaN() {
        assertTrue(Float.isNaN(Floats.bf16ToFloat(bf16(Float.NaN))));
        // A NaN whose payload lies only in the dropped low bits must not become infinity.
        float lowPayloadNaN = Float.intBitsToFloat(0x7F800001);
        assertTrue(Float.isNaN(Floats.bf16ToFloat(bf16(lowPayloadNaN))));
        float negativeNaN = Float.intBitsToFloat(0xFFC00000);
        assertEquals((short) 0xFFC0, bf16(negativeNaN));
        // The largest-payload NaN must not carry into the sign bit.
        assertTrue(Float.isNaN(Floats.bf16ToFloat(bf16(Float.intBitsToFloat(0x7FFFFFFF)))));
    }

    @Test
    void bf16RoundTripsEveryBf16Value() {
        for (int bits = 0; bits <= 0xFFFF; bits++) {
            float f = Floats.bf16ToFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) bits, bf16(f), Integer.toHexString(bits));
            }
        }
    }

    @Test
    void f16Conversions() {
        assertEquals((short) 0x3C00, Floats.floatToF16(1f));
        assertEquals(65504f, Floats.f16ToFloat(Floats.floatToF16(65504f)));
        assertEquals(Float.POSITIVE_INFINITY, Floats.f16ToFloat(Floats.floatToF16(70000f)));
        assertEquals(1f, Floats.f16ToFloat(Floats.floatToF16(1f + 0x1p-11f)), "tie rounds to even");
        assertTrue(Float.isNaN(Floats.f16ToFloat(Floats.floatToF16(Float.NaN))));
    }

    @Test
    void toBytesIsLittleEndian() {
        assertArrayEquals(new byte[] {(byte) 0x80, 0x3F}, Floats.toBytes(DType.BF16, new float[] {1f}));
        assertArrayEquals(new byte[] {0x00, 0x3C}, Floats.toBytes(DType.F16, new float[] {1f}));
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3F}, Floats.toBytes(DType.F32, new float[] {1f}));
        assertThrows(IllegalArgumentException.class, () -> Floats.toBytes(DType.I8, new float[] {1f}));
    }

    @Test
    void toFloatsRoundsBf16OnWriteAndWidensExactly() {
        Path file = dir.resolve("x.safetensors");
        float[] values = {1.00390625f, -3.14159f, 1e-3f, 65504f};
        new SafetensorsWriter().addFloats("w", DType.BF16, new long[] {2, 2}, values).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            float[] read = Floats.toFloats(f.get("w"));
            for (int i = 0; i < values.length; i++) {
                assertEquals(Floats.bf16ToFloat(bf16(values[i])), read[i]);
            }
        }
    }

    @Test
    void toFloatsRefusesNonFloatTensors() {
        Path file = dir.resolve("x.safetensors");
        new SafetensorsWriter().add("ids", DType.I64, new long[] {1}, new byte[8]).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Floats.toFloats(f.get("ids")));
            assertMessage(e, "ids", file.toString(), "I64");
        }
    }

    @Test
    void toFloatsRefusesTensorsTooLargeForAnArray() {
        Path file = dir.resolve("x.safetensors");
        new SafetensorsWriter().add("w", DType.F32, new long[] {1}, new byte[4]).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            TensorView real = f.get("w");
            TensorView huge = new TensorView("huge", DType.F32, new long[] {1L << 31}, real.data(), file);
            CheckpointException e = assertThrows(CheckpointException.class, () -> Floats.toFloats(huge));
            assertMessage(e, "huge", file.toString(), "too many");
        }
    }
}

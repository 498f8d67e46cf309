package io.latentserve.model.cpu;

import io.latentserve.model.checkpoint.DType;
import io.latentserve.model.checkpoint.Floats;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The vectorized matmul against the scalar reference, on shapes that hit every tail and tile edge. */
class MatmulTest {

    @ParameterizedTest
    @CsvSource({
            "1, 64, 32, BF16", "1, 2048, 37, BF16", "3, 96, 130, BF16", "40, 66, 9, BF16", "33, 18, 5, BF16",
            "2, 7, 6, BF16", "5, 64, 31, F32", "4, 33, 10, F16", "70, 128, 64, BF16"})
    void vectorizedMatchesScalar(int tokens, int k, int n, DType dtype) {
        SplittableRandom rnd = new SplittableRandom(k * 31L + n);
        try (Arena arena = Arena.ofShared()) {
            CpuWeight w = randomWeight(arena, rnd, n, k, dtype);
            CpuActivation x = CpuActivation.allocate(tokens, k);
            for (int i = 0; i < x.data().length; i++) {
                x.data()[i] = (float) rnd.nextGaussian();
            }
            CpuActivation fast = CpuActivation.allocate(tokens, n);
            CpuActivation plain = CpuActivation.allocate(tokens, n);
            Matmul.matmul(new Parallel(2), x, w, fast);
            Matmul.scalar(x, w, plain);
            for (int i = 0; i < fast.data().length; i++) {
                assertEquals(plain.data()[i], fast.data()[i], 1e-4 * Math.sqrt(k), "element " + i);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"3, 64, 20", "1, 48, 7"})
    void columnViewsAreHonoured(int tokens, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(7);
        try (Arena arena = Arena.ofShared()) {
            CpuWeight w = randomWeight(arena, rnd, n, k, DType.BF16);
            CpuActivation wide = CpuActivation.allocate(tokens, k + 10);
            for (int i = 0; i < wide.data().length; i++) {
                wide.data()[i] = (float) rnd.nextGaussian();
            }
            CpuActivation x = wide.columns(5, k);
            CpuActivation outWide = CpuActivation.allocate(tokens, n + 3);
            CpuActivation plain = CpuActivation.allocate(tokens, n);
            Matmul.matmul(new Parallel(1), x, w, outWide.columns(2, n));
            Matmul.scalar(x, w, plain);
            for (int t = 0; t < tokens; t++) {
                assertEquals(0f, outWide.get(t, 0));
                assertEquals(0f, outWide.get(t, n + 2));
                for (int j = 0; j < n; j++) {
                    assertEquals(plain.get(t, j), outWide.get(t, j + 2), 1e-4);
                }
            }
        }
    }

    static CpuWeight randomWeight(Arena arena, SplittableRandom rnd, int rows, int cols, DType dtype) {
        MemorySegment seg = arena.allocate((long) rows * cols * dtype.byteSize());
        var shortLe = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        var floatLe = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < (long) rows * cols; i++) {
            float v = (float) rnd.nextGaussian();
            switch (dtype) {
                case BF16 -> seg.setAtIndex(shortLe, i, Floats.floatToBf16(v));
                case F16 -> seg.setAtIndex(shortLe, i, Floats.floatToF16(v));
                default -> seg.setAtIndex(floatLe, i, v);
            }
        }
        return new CpuWeight(seg, dtype, rows, cols);
    }
}

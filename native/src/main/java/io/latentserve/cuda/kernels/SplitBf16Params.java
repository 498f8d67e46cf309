package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_split_bf16 (LsSplitBf16Params in latentserve_params.h).
 * X (f32) = hi + lo + O(2^-18 |x|) with hi = bf16(x), lo = bf16(x - hi); writes out[t, :] = hi and
 * out[rows + t, :] = lo (bf16, dense [2*rows, cols]); with hiOnly only the hi rows (x rounded to bf16, nearest
 * even: the GEMM input of --matmul-precision medium).
 *
 * @param x [rows, cols] f32, stride xStride
 * @param out [2*rows, cols] bf16 ([rows, cols] when hiOnly)
 * @param hiOnly write only the hi rows
 */
public record SplitBf16Params(
        long x,
        long out,
        int rows,
        int cols,
        int xStride,
        boolean hiOnly) implements KernelParams {

    /** Both halves, hi rows then lo rows. */
    public SplitBf16Params(long x, long out, int rows, int cols, int xStride) {
        this(x, out, rows, cols, xStride, false);
    }

    public static final String KERNEL = "ls_split_bf16";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("x"),
            JAVA_LONG.withName("out"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("cols"),
            JAVA_INT.withName("xStride"),
            JAVA_INT.withName("hiOnly")).withName("LsSplitBf16Params");

    @Override
    public String kernel() {
        return KERNEL;
    }

    @Override
    public StructLayout layout() {
        return LAYOUT;
    }

    @Override
    public MemorySegment write(Arena arena) {
        return StructWriter.of(arena, LAYOUT)
                .ptr(x)
                .ptr(out)
                .i32(rows)
                .i32(cols)
                .i32(xStride)
                .i32(hiOnly ? 1 : 0)
                .done();
    }
}

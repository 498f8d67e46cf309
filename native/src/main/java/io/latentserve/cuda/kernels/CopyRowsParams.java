package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_copy_rows (LsCopyRowsParams in latentserve_params.h).
 * Dst[dstIndex[i], :] = src[srcIndex[i], :] for i &lt; rows, cols values per row, each side f32 or bf16
 * (f32 -&gt; bf16 rounds to nearest even: the bf16 KV cache's write; bf16 -&gt; f32 widens: its gather).
 *
 * @param srcIndex [rows] int32 or 0
 * @param dstIndex [rows] int32 or 0
 * @param srcDtype KernelLimits.DTYPE_F32 or DTYPE_BF16; strides count elements of this type on the source side
 * @param dstDtype KernelLimits.DTYPE_F32 or DTYPE_BF16
 */
public record CopyRowsParams(
        long src,
        long srcIndex,
        long dst,
        long dstIndex,
        int rows,
        int cols,
        int srcStride,
        int dstStride,
        int srcDtype,
        int dstDtype) implements KernelParams {

    public static final String KERNEL = "ls_copy_rows";

    /** An f32 -&gt; f32 copy. */
    public CopyRowsParams(long src, long srcIndex, long dst, long dstIndex, int rows, int cols, int srcStride,
                          int dstStride) {
        this(src, srcIndex, dst, dstIndex, rows, cols, srcStride, dstStride, KernelLimits.DTYPE_F32,
                KernelLimits.DTYPE_F32);
    }

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("src"),
            JAVA_LONG.withName("srcIndex"),
            JAVA_LONG.withName("dst"),
            JAVA_LONG.withName("dstIndex"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("cols"),
            JAVA_INT.withName("srcStride"),
            JAVA_INT.withName("dstStride"),
            JAVA_INT.withName("srcDtype"),
            JAVA_INT.withName("dstDtype")).withName("LsCopyRowsParams");

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
                .ptr(src)
                .ptr(srcIndex)
                .ptr(dst)
                .ptr(dstIndex)
                .i32(rows)
                .i32(cols)
                .i32(srcStride)
                .i32(dstStride)
                .i32(srcDtype)
                .i32(dstDtype)
                .done();
    }
}

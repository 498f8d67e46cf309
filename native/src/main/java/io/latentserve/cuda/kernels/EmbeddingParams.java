package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_embedding (LsEmbeddingParams in latentserve_params.h).
 * Out[t, :] = widen(table[ids[t], :]) for t &lt; rows.
 *
 * @param table [vocab, cols] bf16 or f32
 * @param ids [rows] int32, each in [0, vocab)
 * @param out [rows, cols] f32, row stride outStride
 * @param tableDtype LS_DTYPE_*
 */
public record EmbeddingParams(
        long table,
        long ids,
        long out,
        int rows,
        int cols,
        int tableDtype,
        int outStride) implements KernelParams {

    public static final String KERNEL = "ls_embedding";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("table"),
            JAVA_LONG.withName("ids"),
            JAVA_LONG.withName("out"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("cols"),
            JAVA_INT.withName("tableDtype"),
            JAVA_INT.withName("outStride")).withName("LsEmbeddingParams");

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
                .ptr(table)
                .ptr(ids)
                .ptr(out)
                .i32(rows)
                .i32(cols)
                .i32(tableDtype)
                .i32(outStride)
                .done();
    }
}

package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_sample (LsSampleParams in latentserve_params.h).
 * One token per row of logits, one block per row.
 *
 * @param logits [rows, vocab] f32, stride logitsStride
 * @param invTemperature [rows] f64: 1 / temperature, 0 for greedy
 * @param topK [rows] int32
 * @param topP [rows] f64
 * @param uniform [rows] f64 in [0, 1)
 * @param tokens [rows] int32 out
 * @param listPerThread candidate list entries per thread: the launch's dynamic shared memory holds
 *                      {@link KernelLimits#sampleSharedBytes} of it (0: none, every pass reads the row; the same tokens)
 */
public record SampleParams(
        long logits,
        long invTemperature,
        long topK,
        long topP,
        long uniform,
        long tokens,
        int rows,
        int vocab,
        int logitsStride,
        int listPerThread) implements KernelParams {

    public static final String KERNEL = "ls_sample";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("logits"),
            JAVA_LONG.withName("invTemperature"),
            JAVA_LONG.withName("topK"),
            JAVA_LONG.withName("topP"),
            JAVA_LONG.withName("uniform"),
            JAVA_LONG.withName("tokens"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("vocab"),
            JAVA_INT.withName("logitsStride"),
            JAVA_INT.withName("listPerThread")).withName("LsSampleParams");

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
                .ptr(logits)
                .ptr(invTemperature)
                .ptr(topK)
                .ptr(topP)
                .ptr(uniform)
                .ptr(tokens)
                .i32(rows)
                .i32(vocab)
                .i32(logitsStride)
                .i32(listPerThread)
                .done();
    }
}

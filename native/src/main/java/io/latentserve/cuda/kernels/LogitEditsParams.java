package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_logit_edits (LsLogitEditsParams in latentserve_params.h).
 * The bias and penalties of LogitEdits applied in place to rows of logits, bit for bit its stages; one block per row.
 *
 * @param logits       [rows, vocab] f32, stride logitsStride, edited in place
 * @param entryStart   [rows + 1] int32: row r's entries are entryStart[r] .. entryStart[r + 1] - 1
 * @param tokens       [entries] int32, distinct within a row and below the vocabulary
 * @param bias         [entries] f32: 0 for none, {@link KernelLimits#LOGIT_BAN} or below bans the token
 * @param generated    [entries] int32: occurrences among the generated tokens
 * @param seen         [entries] int32: 1 where the token is in the prompt or generated, else 0
 * @param repetition   [rows] f64: 1 for none
 * @param presence     [rows] f64
 * @param frequency    [rows] f64
 * @param pendingRow   [rows] int32: -1, or the row of previousTokens whose token counts as one more generated one
 * @param previousTokens the previous pass's sampled tokens (int32), or 0 when no row has a pending token
 */
public record LogitEditsParams(
        long logits,
        long entryStart,
        long tokens,
        long bias,
        long generated,
        long seen,
        long repetition,
        long presence,
        long frequency,
        long pendingRow,
        long previousTokens,
        int rows,
        int logitsStride) implements KernelParams {

    public static final String KERNEL = "ls_logit_edits";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("logits"),
            JAVA_LONG.withName("entryStart"),
            JAVA_LONG.withName("tokens"),
            JAVA_LONG.withName("bias"),
            JAVA_LONG.withName("generated"),
            JAVA_LONG.withName("seen"),
            JAVA_LONG.withName("repetition"),
            JAVA_LONG.withName("presence"),
            JAVA_LONG.withName("frequency"),
            JAVA_LONG.withName("pendingRow"),
            JAVA_LONG.withName("previousTokens"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("logitsStride")).withName("LsLogitEditsParams");

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
                .ptr(entryStart)
                .ptr(tokens)
                .ptr(bias)
                .ptr(generated)
                .ptr(seen)
                .ptr(repetition)
                .ptr(presence)
                .ptr(frequency)
                .ptr(pendingRow)
                .ptr(previousTokens)
                .i32(rows)
                .i32(logitsStride)
                .done();
    }
}

package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_mla_absorb_q (LsMlaAbsorbParams in latentserve_params.h).
 * The absorbed MLA query.
 *
 * @param q [T, H*(dn+dr)] f32, stride qStride
 * @param kvB [H*(dn+dv), r] bf16 or f32
 * @param qa [numWork, H, r+dr] f32
 * @param tokenRows [numWork] int32
 */
public record MlaAbsorbParams(
        long q,
        long kvB,
        long qa,
        long tokenRows,
        int numWork,
        int numHeads,
        int dn,
        int dr,
        int dv,
        int r,
        int qStride,
        int kvBDtype) implements KernelParams {

    public static final String KERNEL = "ls_mla_absorb_q";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("q"),
            JAVA_LONG.withName("kvB"),
            JAVA_LONG.withName("qa"),
            JAVA_LONG.withName("tokenRows"),
            JAVA_INT.withName("numWork"),
            JAVA_INT.withName("numHeads"),
            JAVA_INT.withName("dn"),
            JAVA_INT.withName("dr"),
            JAVA_INT.withName("dv"),
            JAVA_INT.withName("r"),
            JAVA_INT.withName("qStride"),
            JAVA_INT.withName("kvBDtype")).withName("LsMlaAbsorbParams");

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
                .ptr(q)
                .ptr(kvB)
                .ptr(qa)
                .ptr(tokenRows)
                .i32(numWork)
                .i32(numHeads)
                .i32(dn)
                .i32(dr)
                .i32(dv)
                .i32(r)
                .i32(qStride)
                .i32(kvBDtype)
                .done();
    }
}

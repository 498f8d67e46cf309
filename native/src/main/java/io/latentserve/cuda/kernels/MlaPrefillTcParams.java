package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_mla_prefill_tc (LsMlaPrefillTcParams in latentserve_params.h): causal MLA prefill attention over
 * the decompressed keys on tensor cores (FlashAttention-2 form), one block per (head, work item of up to
 * {@link KernelLimits#MLA_PF_QUERIES} queries). Which shapes it takes, its work items, grid and shared memory:
 * {@code io.latentserve.cuda.backend.MlaPrefillTc}.
 *
 * @param q [rows, ...] f32: row w, head h at q + w*qStride + h*qHeadStride, [q_nope dn | q_rope dr]
 * @param kvHi [keys, ...] bf16 hi halves: k_nope (dn) | v (dv) of head h at row*kvStride + h*kvHeadStride
 * @param kvLo the lo halves, same layout (0 when terms is 1)
 * @param ropeHi [keys, ...] bf16 hi halves of k_rope (dr, shared by all heads), row stride ropeStride
 * @param ropeLo the lo halves (0 when terms is 1)
 * @param positions [rows] int32: each query row's position in its sequence
 * @param work [numWork, 4] int32: first query row, query count, key row base, key end (1 + the last position)
 * @param out [rows, ...] f32: row w, head h at out + w*outStride + h*outHeadStride, dv values
 * @param terms 3 (hi·hi + lo·hi + hi·lo of both products: f32-level accuracy) or 1 (hi·hi only)
 */
public record MlaPrefillTcParams(
        long q,
        long kvHi,
        long kvLo,
        long ropeHi,
        long ropeLo,
        long positions,
        long work,
        long out,
        int numWork,
        int numHeads,
        int dn,
        int dr,
        int dv,
        int qStride,
        int qHeadStride,
        int kvStride,
        int kvHeadStride,
        int ropeStride,
        int outStride,
        int outHeadStride,
        int terms,
        float scale) implements KernelParams {

    public static final String KERNEL = "ls_mla_prefill_tc";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("q"),
            JAVA_LONG.withName("kvHi"),
            JAVA_LONG.withName("kvLo"),
            JAVA_LONG.withName("ropeHi"),
            JAVA_LONG.withName("ropeLo"),
            JAVA_LONG.withName("positions"),
            JAVA_LONG.withName("work"),
            JAVA_LONG.withName("out"),
            JAVA_INT.withName("numWork"),
            JAVA_INT.withName("numHeads"),
            JAVA_INT.withName("dn"),
            JAVA_INT.withName("dr"),
            JAVA_INT.withName("dv"),
            JAVA_INT.withName("qStride"),
            JAVA_INT.withName("qHeadStride"),
            JAVA_INT.withName("kvStride"),
            JAVA_INT.withName("kvHeadStride"),
            JAVA_INT.withName("ropeStride"),
            JAVA_INT.withName("outStride"),
            JAVA_INT.withName("outHeadStride"),
            JAVA_INT.withName("terms"),
            JAVA_FLOAT.withName("scale")).withName("LsMlaPrefillTcParams");

    public MlaPrefillTcParams {
        if (terms != 1 && terms != 3) {
            throw new IllegalArgumentException("ls_mla_prefill_tc computes 1 or 3 hi/lo terms, not " + terms);
        }
        if (terms == 3 && (kvLo == 0 || dr > 0 && ropeLo == 0)) {
            throw new IllegalArgumentException("3 terms read the lo halves: kvLo and ropeLo must be given");
        }
    }

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
                .ptr(kvHi)
                .ptr(kvLo)
                .ptr(ropeHi)
                .ptr(ropeLo)
                .ptr(positions)
                .ptr(work)
                .ptr(out)
                .i32(numWork)
                .i32(numHeads)
                .i32(dn)
                .i32(dr)
                .i32(dv)
                .i32(qStride)
                .i32(qHeadStride)
                .i32(kvStride)
                .i32(kvHeadStride)
                .i32(ropeStride)
                .i32(outStride)
                .i32(outHeadStride)
                .i32(terms)
                .f32(scale)
                .done();
    }
}

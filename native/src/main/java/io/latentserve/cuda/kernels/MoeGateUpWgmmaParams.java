package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_moe_gate_up_wgmma (LsMoeGateUpWgmmaParams in latentserve_params.h): what {@link MoeGateUpParams}
 * computes, on Hopper warpgroup tensor cores (sm_90a only: launch on compute capability 9.0), for bf16 weights whose
 * widths are multiples of {@link KernelLimits#MOE_TC_K}. Grid (ceil(pairs / {@link KernelLimits#MOE_WG_ROWS}) +
 * numExperts, ceil(inter / {@link KernelLimits#MOE_WG_GATE_UP_FEATURES})), block {@link KernelLimits#MOE_WG_THREADS},
 * {@link KernelLimits#MOE_WG_SMEM} bytes of dynamic shared memory.
 *
 * @param x [T, hidden] f32, stride xStride
 * @param gateTable [numExperts] device addresses of gate_proj, bf16 [inter, hidden]
 * @param upTable [numExperts] device addresses of up_proj, bf16 [inter, hidden]
 * @param offsets [numExperts + 1] int32 (ls_moe_sort)
 * @param rowToken [pairs] int32 (ls_moe_sort)
 * @param h [pairs, inter] f32 out, stride hStride
 * @param aTerms 2: x as bf16 hi + lo (f32 accuracy, two products); 1: x rounded to bf16 once
 */
public record MoeGateUpWgmmaParams(
        long x,
        long gateTable,
        long upTable,
        long offsets,
        long rowToken,
        long h,
        int numExperts,
        int hidden,
        int inter,
        int xStride,
        int hStride,
        int aTerms) implements KernelParams {

    public static final String KERNEL = "ls_moe_gate_up_wgmma";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("x"),
            JAVA_LONG.withName("gateTable"),
            JAVA_LONG.withName("upTable"),
            JAVA_LONG.withName("offsets"),
            JAVA_LONG.withName("rowToken"),
            JAVA_LONG.withName("h"),
            JAVA_INT.withName("numExperts"),
            JAVA_INT.withName("hidden"),
            JAVA_INT.withName("inter"),
            JAVA_INT.withName("xStride"),
            JAVA_INT.withName("hStride"),
            JAVA_INT.withName("aTerms")).withName("LsMoeGateUpWgmmaParams");

    public MoeGateUpWgmmaParams {
        if (aTerms != 1 && aTerms != 2) {
            throw new IllegalArgumentException("aTerms " + aTerms + ": 1 (bf16 activations) or 2 (bf16 hi + lo)");
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
                .ptr(x)
                .ptr(gateTable)
                .ptr(upTable)
                .ptr(offsets)
                .ptr(rowToken)
                .ptr(h)
                .i32(numExperts)
                .i32(hidden)
                .i32(inter)
                .i32(xStride)
                .i32(hStride)
                .i32(aTerms)
                .done();
    }
}

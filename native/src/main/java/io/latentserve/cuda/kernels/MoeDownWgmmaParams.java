package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_moe_down_wgmma (LsMoeDownWgmmaParams in latentserve_params.h): what {@link MoeDownParams}
 * computes, on Hopper warpgroup tensor cores (sm_90a only: launch on compute capability 9.0), for bf16 weights whose
 * widths are multiples of {@link KernelLimits#MOE_TC_K}, from the bf16 terms of h that ls_moe_gate_up_wgmma wrote.
 * A persistent grid (any block count; the SMs' is enough, one block fits an SM), block {@link KernelLimits#MOE_WG_THREADS},
 * {@link KernelLimits#MOE_WG_SMEM} bytes of dynamic shared memory; at most {@link KernelLimits#MOE_WG_MAX_EXPERTS}
 * experts.
 *
 * @param hHi [pairs, inter] bf16(h), stride hStride (a multiple of 8)
 * @param hLo [pairs, inter] bf16(h - hHi), stride hStride; unread when aTerms is 1
 * @param downTable [numExperts] device addresses of down_proj, bf16 [hidden, inter]
 * @param downStrides [numExperts] int32 row stride (values) of each down_proj: inter, or S·inter for a column slice
 *        of the shared experts' [hidden, S·inter] down_proj
 * @param offsets [numExperts + 1] int32 (ls_moe_sort)
 * @param y [pairs, hidden] f32 out, stride yStride
 * @param weightMaps [numExperts, 3] tensor maps of gate, up and down ({@link KernelLimits#TENSOR_MAP_BYTES} each):
 *        the weight tiles by TMA; 0: by cp.async
 * @param aTerms 2: h as bf16 hi + lo (f32 accuracy, two products); 1: hHi only
 */
public record MoeDownWgmmaParams(
        long hHi,
        long hLo,
        long downTable,
        long downStrides,
        long offsets,
        long y,
        long weightMaps,
        int numExperts,
        int hidden,
        int inter,
        int hStride,
        int yStride,
        int aTerms) implements KernelParams {

    public static final String KERNEL = "ls_moe_down_wgmma";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("hHi"),
            JAVA_LONG.withName("hLo"),
            JAVA_LONG.withName("downTable"),
            JAVA_LONG.withName("downStrides"),
            JAVA_LONG.withName("offsets"),
            JAVA_LONG.withName("y"),
            JAVA_LONG.withName("weightMaps"),
            JAVA_INT.withName("numExperts"),
            JAVA_INT.withName("hidden"),
            JAVA_INT.withName("inter"),
            JAVA_INT.withName("hStride"),
            JAVA_INT.withName("yStride"),
            JAVA_INT.withName("aTerms")).withName("LsMoeDownWgmmaParams");

    public MoeDownWgmmaParams {
        MoeGateUpWgmmaParams.checkCall(numExperts, aTerms);
        if (hStride % 8 != 0) {
            throw new IllegalArgumentException("hStride " + hStride + ": a multiple of 8 (16-byte rows for the kernel's copies)");
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
                .ptr(hHi)
                .ptr(hLo)
                .ptr(downTable)
                .ptr(downStrides)
                .ptr(offsets)
                .ptr(y)
                .ptr(weightMaps)
                .i32(numExperts)
                .i32(hidden)
                .i32(inter)
                .i32(hStride)
                .i32(yStride)
                .i32(aTerms)
                .done();
    }
}

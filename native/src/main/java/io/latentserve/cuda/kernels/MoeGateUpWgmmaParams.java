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
 * widths are multiples of {@link KernelLimits#MOE_TC_K}, with x as its bf16 terms (ls_split_bf16) and h written as
 * bf16 terms for ls_moe_down_wgmma. A persistent grid (any block count;
 * the SMs' is enough, one block fits an SM), block {@link KernelLimits#MOE_WG_THREADS},
 * {@link KernelLimits#MOE_WG_SMEM} bytes of dynamic shared memory; at most {@link KernelLimits#MOE_WG_MAX_EXPERTS}
 * experts.
 *
 * @param xHi [T, hidden] bf16(x), stride xStride (a multiple of 8)
 * @param xLo [T, hidden] bf16(x - xHi), stride xStride; unread when aTerms is 1
 * @param gateTable [numExperts] device addresses of gate_proj, bf16 [inter, hidden]
 * @param upTable [numExperts] device addresses of up_proj, bf16 [inter, hidden]
 * @param offsets [numExperts + 1] int32 (ls_moe_sort)
 * @param rowToken [pairs] int32 (ls_moe_sort)
 * @param hHi [pairs, inter] bf16 out: bf16(silu(gate x) * (up x)), stride hStride (a multiple of 8)
 * @param hLo [pairs, inter] bf16 out: the rest of h rounded to bf16; unwritten when aTerms is 1
 * @param weightMaps [numExperts, 3] tensor maps of gate, up and down ({@link KernelLimits#TENSOR_MAP_BYTES} each):
 *        the weight tiles by TMA; 0: by cp.async
 * @param aTerms 2: both terms of x and h (f32 accuracy, two products); 1: the bf16 roundings only
 */
public record MoeGateUpWgmmaParams(
        long xHi,
        long xLo,
        long gateTable,
        long upTable,
        long offsets,
        long rowToken,
        long hHi,
        long hLo,
        long weightMaps,
        int numExperts,
        int hidden,
        int inter,
        int xStride,
        int hStride,
        int aTerms) implements KernelParams {

    public static final String KERNEL = "ls_moe_gate_up_wgmma";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("xHi"),
            JAVA_LONG.withName("xLo"),
            JAVA_LONG.withName("gateTable"),
            JAVA_LONG.withName("upTable"),
            JAVA_LONG.withName("offsets"),
            JAVA_LONG.withName("rowToken"),
            JAVA_LONG.withName("hHi"),
            JAVA_LONG.withName("hLo"),
            JAVA_LONG.withName("weightMaps"),
            JAVA_INT.withName("numExperts"),
            JAVA_INT.withName("hidden"),
            JAVA_INT.withName("inter"),
            JAVA_INT.withName("xStride"),
            JAVA_INT.withName("hStride"),
            JAVA_INT.withName("aTerms")).withName("LsMoeGateUpWgmmaParams");

    public MoeGateUpWgmmaParams {
        checkCall(numExperts, aTerms);
        if (xStride % 8 != 0 || hStride % 8 != 0) {
            throw new IllegalArgumentException("xStride " + xStride + ", hStride " + hStride
                    + ": multiples of 8 (16-byte rows for the kernel's copies)");
        }
    }

    /** What both wgmma MoE kernels require of a call: one or two activation terms, at most MOE_WG_MAX_EXPERTS. */
    static void checkCall(int numExperts, int aTerms) {
        if (aTerms != 1 && aTerms != 2) {
            throw new IllegalArgumentException("aTerms " + aTerms + ": 1 (bf16 activations) or 2 (bf16 hi + lo)");
        }
        if (numExperts > KernelLimits.MOE_WG_MAX_EXPERTS) {
            throw new IllegalArgumentException(numExperts + " experts: the wgmma kernels take at most "
                    + KernelLimits.MOE_WG_MAX_EXPERTS);
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
                .ptr(xHi)
                .ptr(xLo)
                .ptr(gateTable)
                .ptr(upTable)
                .ptr(offsets)
                .ptr(rowToken)
                .ptr(hHi)
                .ptr(hLo)
                .ptr(weightMaps)
                .i32(numExperts)
                .i32(hidden)
                .i32(inter)
                .i32(xStride)
                .i32(hStride)
                .i32(aTerms)
                .done();
    }
}

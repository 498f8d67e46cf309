package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_moe_route (LsMoeRouteParams in latentserve_params.h).
 * DeepSeek-V2 routing of one token per block from its router logits (MODEL_SPEC 3.4): softmax over the
 * experts, greedy or group-limited top-k (ties to the lower id), then the weights w / (sum w + 1e-20)
 * when normTopkProb and topK &gt; 1, else s * routedScalingFactor.
 *
 * @param logits [rows, numExperts] f32, stride logitsStride
 * @param experts [rows, topK] int32 out
 * @param weights [rows, topK] f32 out
 * @param groupLimited 0 or 1
 * @param normTopkProb 0 or 1
 */
public record MoeRouteParams(
        long logits,
        long experts,
        long weights,
        int rows,
        int numExperts,
        int logitsStride,
        int topK,
        int groupLimited,
        int numGroups,
        int topkGroup,
        int normTopkProb,
        float routedScalingFactor) implements KernelParams {

    public static final String KERNEL = "ls_moe_route";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("logits"),
            JAVA_LONG.withName("experts"),
            JAVA_LONG.withName("weights"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("numExperts"),
            JAVA_INT.withName("logitsStride"),
            JAVA_INT.withName("topK"),
            JAVA_INT.withName("groupLimited"),
            JAVA_INT.withName("numGroups"),
            JAVA_INT.withName("topkGroup"),
            JAVA_INT.withName("normTopkProb"),
            JAVA_FLOAT.withName("routedScalingFactor"),
            JAVA_INT.withName("pad0")).withName("LsMoeRouteParams");

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
                .ptr(experts)
                .ptr(weights)
                .i32(rows)
                .i32(numExperts)
                .i32(logitsStride)
                .i32(topK)
                .i32(groupLimited)
                .i32(numGroups)
                .i32(topkGroup)
                .i32(normTopkProb)
                .f32(routedScalingFactor)
                .done();
    }
}

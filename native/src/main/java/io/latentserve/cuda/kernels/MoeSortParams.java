package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_moe_sort (LsMoeSortParams in latentserve_params.h).
 * The routing of ls_moe_route regrouped by expert on the device: per-expert offsets, the token of each
 * gathered row (experts ascending, tokens ascending within one: deterministic), and each token's rows and
 * weights in ascending expert id (what ls_moe_combine takes). With numShared shared experts folded in, experts
 * numExperts .. numExperts+numShared-1 take every token with weight 1 (rows after the routed ones) and each token
 * lists them first. One block.
 *
 * @param experts [rows, topK] int32
 * @param weights [rows, topK] f32
 * @param offsets [numExperts + numShared + 1] int32 out
 * @param rowToken [rows*(topK + numShared)] int32 out
 * @param pairRows [rows, numShared + topK] int32 out
 * @param pairWeights [rows, numShared + topK] f32 out
 * @param numExperts routed experts
 * @param numShared shared experts every token takes (0: none)
 */
public record MoeSortParams(
        long experts,
        long weights,
        long offsets,
        long rowToken,
        long pairRows,
        long pairWeights,
        int rows,
        int topK,
        int numExperts,
        int numShared) implements KernelParams {

    public static final String KERNEL = "ls_moe_sort";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("experts"),
            JAVA_LONG.withName("weights"),
            JAVA_LONG.withName("offsets"),
            JAVA_LONG.withName("rowToken"),
            JAVA_LONG.withName("pairRows"),
            JAVA_LONG.withName("pairWeights"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("topK"),
            JAVA_INT.withName("numExperts"),
            JAVA_INT.withName("numShared")).withName("LsMoeSortParams");

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
                .ptr(experts)
                .ptr(weights)
                .ptr(offsets)
                .ptr(rowToken)
                .ptr(pairRows)
                .ptr(pairWeights)
                .i32(rows)
                .i32(topK)
                .i32(numExperts)
                .i32(numShared)
                .done();
    }
}

package io.latentserve.model.backend;

import java.util.Arrays;

/**
 * The batch sizes a backend wants decode steps padded to. A backend that replays forward passes as CUDA graphs
 * keys them on the launch shape, which follows the row count: without padding every batch size between 1 and
 * the scheduler's limit would be its own graph (captured, instantiated and kept), and a batch that changes size
 * as requests come and go would rarely replay one. Padded to a few buckets, each bucket is one graph that serves
 * every batch size up to it. The engine pads a decode-only step with rows that read and write a spare cache
 * block and whose tokens it drops (ModelRunner); the padding rows cost little in a decode step, which is bound by
 * reading the weights, and their attention sees one key.
 */
public final class DecodeBuckets {
    /** No padding (the default: a backend without graphs gains nothing from it). */
    public static final DecodeBuckets NONE = new DecodeBuckets(new int[0]);

    /**
     * The CUDA graphs' buckets: 1, 2, 4, 8, then steps of 8 to 64, of 16 to 128 and of 32 to 256 (as vLLM's
     * capture sizes, fewer of them: 19, within StepGraphs' 32 kept graphs), above 256 multiples of 64. Padding
     * adds at most 1/8 to a batch of 64 or more.
     */
    public static final DecodeBuckets GRAPHS = new DecodeBuckets(new int[]{1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64,
            80, 96, 112, 128, 160, 192, 224, 256});

    /** Above the last bucket, batches are padded to a multiple of this. */
    static final int STEP_BEYOND = 64;

    private final int[] sizes;

    private DecodeBuckets(int[] sizes) {
        this.sizes = sizes;
    }

    /** Buckets of these sizes (ascending, positive), multiples of 64 beyond the last. */
    public static DecodeBuckets of(int... sizes) {
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] < 1 || (i > 0 && sizes[i] <= sizes[i - 1])) {
                throw new IllegalArgumentException("decode buckets must be positive and ascending: "
                        + Arrays.toString(sizes));
            }
        }
        return new DecodeBuckets(sizes.clone());
    }

    /** Whether any step is padded. */
    public boolean pads() {
        return sizes.length > 0;
    }

    /** The rows a decode step of {@code rows} sequences runs with: the smallest bucket that holds them. */
    public int padTo(int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("a decode step of " + rows + " rows");
        }
        if (!pads()) {
            return rows;
        }
        int at = Arrays.binarySearch(sizes, rows);
        if (at >= 0) {
            return rows;
        }
        int next = -at - 1;
        return next < sizes.length ? sizes[next] : Math.ceilDiv(rows, STEP_BEYOND) * STEP_BEYOND;
    }

    @Override
    public String toString() {
        return pads() ? "decode buckets " + Arrays.toString(sizes) : "no decode buckets";
    }
}

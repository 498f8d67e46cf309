package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.kernels.KernelLimits;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The tensor maps the wgmma MoE kernels' producer hands to the bulk tensor copy (TMA) for the weight tiles: per
 * expert table entry, gate_proj and up_proj ([inter, hidden] bf16: boxes of 64 values x 128 rows) and down_proj
 * ([hidden, inter] with the entry's row stride: boxes of 64 x 256), 128-byte swizzle (the layout the kernels'
 * wgmma descriptors read), zeros past the edges (K tails, features past the last, the next shared slice), L2
 * promotion of 256 bytes. Encoded once per table on the host (cuTensorMapEncodeTiled) and copied next to the
 * table in the weight arena: [entries, 3] maps of {@link KernelLimits#TENSOR_MAP_BYTES}, the layout
 * LsMoeGateUpWgmmaParams.weightMaps names.
 */
final class WeightTensorMaps {
    static final int DATA_TYPE_BF16 = 9;       // CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
    static final int SWIZZLE_128B = 3;         // CU_TENSOR_MAP_SWIZZLE_128B
    static final int L2_PROMOTION_256B = 3;    // CU_TENSOR_MAP_L2_PROMOTION_L2_256B
    static final int OOB_FILL_ZEROS = 0;       // CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE
    /** Values of a box row: one 128-byte swizzled row (the kernels' K stage). */
    static final int BOX_INNER = KernelLimits.MOE_WG_KC;

    private WeightTensorMaps() {
    }

    /** Whether this context can have them: compute capability 9.0 (the kernels' sm_90a) and a driver that encodes. */
    static boolean available(CudaContext ctx) {
        return ctx.device().computeMajor() == 9 && ctx.device().computeMinor() == 0 && ctx.driver().hasTensorMaps();
    }

    /**
     * The device address of the maps of entries with these bf16 weights (gate[i], up[i], down[i] addresses; down's
     * row stride in values downStrides[i]).
     */
    static long build(CudaContext ctx, long[] gate, long[] up, long[] down, int[] downStrides, int hidden, int inter) {
        int n = gate.length;
        long bytes = 3L * n * KernelLimits.TENSOR_MAP_BYTES;
        try (Arena host = Arena.ofConfined()) {
            MemorySegment maps = host.allocate(bytes, 64);
            for (int i = 0; i < n; i++) {
                encode(ctx, maps, 3 * i, gate[i], hidden, inter, 2L * hidden, KernelLimits.MOE_WG_GATE_UP_FEATURES);
                encode(ctx, maps, 3 * i + 1, up[i], hidden, inter, 2L * hidden, KernelLimits.MOE_WG_GATE_UP_FEATURES);
                encode(ctx, maps, 3 * i + 2, down[i], inter, hidden, 2L * downStrides[i],
                        KernelLimits.MOE_WG_DOWN_FEATURES);
            }
            long device = ctx.weights().allocate(bytes);
            ctx.driver().memcpyHtoD(device, maps, bytes);
            return device;
        }
    }

    private static void encode(CudaContext ctx, MemorySegment maps, int index, long address, int inner, int rows,
                               long pitch, int boxRows) {
        ctx.driver().tensorMapEncodeTiled2d(maps.asSlice((long) index * KernelLimits.TENSOR_MAP_BYTES,
                        KernelLimits.TENSOR_MAP_BYTES), DATA_TYPE_BF16, address, inner, rows, pitch, BOX_INNER, boxRows,
                SWIZZLE_128B, L2_PROMOTION_256B, OOB_FILL_ZEROS);
    }
}

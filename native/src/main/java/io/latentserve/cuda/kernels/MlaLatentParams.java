package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_mla_latent (LsMlaLatentParams in latentserve_params.h): MLA's latent rows [c | k_pe] finished
 * in place (c by RMSNorm, k_pe by RoPE at each row's position) and written to the layer's cache at each row's
 * slot, in one launch, bit for bit what ls_rmsnorm, ls_rope and ls_copy_rows give. Grid (rows), block
 * {@link KernelLimits#THREADS}.
 *
 * @param kv [rows, r + dr] f32, stride kvStride
 * @param weight [r] the norm's weight, weightDtype
 * @param positions [rows] int32
 * @param cosTable [tableRows, dr / 2] f32
 * @param sinTable [tableRows, dr / 2] f32
 * @param cache the layer's cache [slots, r + dr] in cacheDtype
 * @param slots [rows] int32 cache rows
 * @param style LS_ROPE_*
 * @param cacheDtype LS_DTYPE_F32 or LS_DTYPE_BF16
 */
public record MlaLatentParams(
        long kv,
        long weight,
        long positions,
        long cosTable,
        long sinTable,
        long cache,
        long slots,
        int rows,
        int r,
        int dr,
        int kvStride,
        int weightDtype,
        int style,
        int tableRows,
        int cacheDtype,
        float eps) implements KernelParams {

    public static final String KERNEL = "ls_mla_latent";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("kv"),
            JAVA_LONG.withName("weight"),
            JAVA_LONG.withName("positions"),
            JAVA_LONG.withName("cosTable"),
            JAVA_LONG.withName("sinTable"),
            JAVA_LONG.withName("cache"),
            JAVA_LONG.withName("slots"),
            JAVA_INT.withName("rows"),
            JAVA_INT.withName("r"),
            JAVA_INT.withName("dr"),
            JAVA_INT.withName("kvStride"),
            JAVA_INT.withName("weightDtype"),
            JAVA_INT.withName("style"),
            JAVA_INT.withName("tableRows"),
            JAVA_INT.withName("cacheDtype"),
            JAVA_FLOAT.withName("eps"),
            JAVA_INT.withName("pad0")).withName("LsMlaLatentParams");

    public MlaLatentParams {
        if (dr % 2 != 0) {
            throw new IllegalArgumentException("rope dims " + dr + ": pairs");
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
                .ptr(kv)
                .ptr(weight)
                .ptr(positions)
                .ptr(cosTable)
                .ptr(sinTable)
                .ptr(cache)
                .ptr(slots)
                .i32(rows)
                .i32(r)
                .i32(dr)
                .i32(kvStride)
                .i32(weightDtype)
                .i32(style)
                .i32(tableRows)
                .i32(cacheDtype)
                .f32(eps)
                .done();
    }
}

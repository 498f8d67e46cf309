package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Parameters of ls_mla_apply_uv (LsMlaApplyUvParams in latentserve_params.h).
 * Out[tokenRows[w], h*dv + i] = sum_c kvB[h*(dn+dv) + dn + i, c] * oLatent[w, h, c].
 *
 * @param oLatent [numWork, H, r] f32
 * @param kvB [H*(dn+dv), r] bf16 or f32
 * @param out [T, H*dv] f32, stride outStride
 * @param tokenRows [numWork] int32
 */
public record MlaApplyUvParams(
        long oLatent,
        long kvB,
        long out,
        long tokenRows,
        int numWork,
        int numHeads,
        int dn,
        int dv,
        int r,
        int outStride,
        int kvBDtype) implements KernelParams {

    public static final String KERNEL = "ls_mla_apply_uv";

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("oLatent"),
            JAVA_LONG.withName("kvB"),
            JAVA_LONG.withName("out"),
            JAVA_LONG.withName("tokenRows"),
            JAVA_INT.withName("numWork"),
            JAVA_INT.withName("numHeads"),
            JAVA_INT.withName("dn"),
            JAVA_INT.withName("dv"),
            JAVA_INT.withName("r"),
            JAVA_INT.withName("outStride"),
            JAVA_INT.withName("kvBDtype"),
            JAVA_INT.withName("pad0")).withName("LsMlaApplyUvParams");

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
                .ptr(oLatent)
                .ptr(kvB)
                .ptr(out)
                .ptr(tokenRows)
                .i32(numWork)
                .i32(numHeads)
                .i32(dn)
                .i32(dv)
                .i32(r)
                .i32(outStride)
                .i32(kvBDtype)
                .done();
    }
}

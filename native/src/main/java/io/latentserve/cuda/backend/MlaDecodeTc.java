package io.latentserve.cuda.backend;

import io.latentserve.cuda.driver.DeviceInfo;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;

import java.util.Optional;

/**
 * When and how ls_mla_decode_tc (absorbed MLA decode on tensor cores over a bf16 latent cache) runs in place of
 * ls_mla_decode: the same {@link MlaDecodePlan} work items and the same ls_mla_combine, a different kernel,
 * launch size and parameter struct ({@link io.latentserve.cuda.kernels.MlaDecodeTcParams}).
 *
 * <p>Its shapes: kv_lora_rank r and r + rope dim both multiples of 16 (m16n8k16 k-steps and column pairs of 16),
 * r at most {@link KernelLimits#MLA_MAX_R} and r + dr at most {@link KernelLimits#MLA_MAX_QK} (register arrays
 * sized at compile time), and its tile ring within the GPU's opt-in shared memory (Hopper's 227 KiB holds
 * DeepSeek's 512 + 64, sm_86/89's 99 KiB does not). Anything else, like the golden test models' 32 + 8, goes to
 * ls_mla_decode (f32 cache) or ls_attention.
 *
 * <p>ls_mla_decode_tma is the same kernel body filling its tile ring by Hopper's bulk copy engine (one
 * cp.async.bulk per cache row, an mbarrier per ring stage) instead of per-thread 16-byte cp.async: same shapes,
 * parameters ({@code bulkCopy} set), grid and shared memory, bit-identical results; compute capability 9.0 and up
 * ({@link #bulkCopy}). Cache rows not 16-byte aligned take the cp.async path inside it.
 */
public final class MlaDecodeTc {
    private MlaDecodeTc() {
    }

    /** Whether ls_mla_decode_tc takes this attention shape on a GPU with the given opt-in shared memory. */
    public static boolean supports(int numHeads, int r, int dr, int sharedOptIn) {
        return unsupported(numHeads, r, dr, sharedOptIn).isEmpty();
    }

    /** Why ls_mla_decode_tc does not take this shape, or empty when it does. */
    public static Optional<String> unsupported(int numHeads, int r, int dr, int sharedOptIn) {
        if (numHeads < 1 || r < 16 || dr < 0) {
            return Optional.of(numHeads + " heads, r " + r + ", dr " + dr + ": needs a head, r >= 16, dr >= 0");
        }
        if (r % 16 != 0 || dr % 16 != 0) {
            return Optional.of("r " + r + " and dr " + dr + " must be multiples of 16 (mma k-steps)");
        }
        if (r > KernelLimits.MLA_MAX_R || r + dr > KernelLimits.MLA_MAX_QK) {
            return Optional.of("r " + r + " + dr " + dr + " above the kernel's " + KernelLimits.MLA_MAX_R + " + "
                    + (KernelLimits.MLA_MAX_QK - KernelLimits.MLA_MAX_R));
        }
        int bytes = sharedBytes(r, dr);
        if (bytes > Math.min(Grid.MAX_SHARED_OPTIN, Math.max(Grid.DEFAULT_MAX_SHARED, sharedOptIn))) {
            return Optional.of(bytes + " bytes of shared memory, the GPU allows " + sharedOptIn);
        }
        return Optional.empty();
    }

    /**
     * Whether a decode that ls_mla_decode_tc takes runs as ls_mla_decode_tma instead: asked for and on compute
     * capability 9.0 or higher, where cp.async.bulk and mbarrier transaction counts exist (its sm_80 code traps).
     */
    public static boolean bulkCopy(DeviceInfo device, boolean wanted) {
        return wanted && device.atLeast(9, 0);
    }

    /** Dynamic shared memory of one block ({@link KernelLimits#mlaDecodeTcSharedBytes}). */
    public static int sharedBytes(int r, int dr) {
        return KernelLimits.mlaDecodeTcSharedBytes(r, dr);
    }

    /** Heads one block serves: the M of every tensor-core product (heads past numHeads are zero rows). */
    public static int headGroups(int numHeads) {
        return KernelLimits.blocks(numHeads, KernelLimits.MLA_TC_HEADS);
    }

    /**
     * The launch of one ls_mla_decode_tc over a plan's padded work items ({@link MlaDecodePlan#launchWork}):
     * grid (launch items, head groups), 8 warps,
     * the opted-in shared memory. The plan was made for numHeads (its head groups are the same 16-head groups).
     */
    public static Grid grid(MlaDecodePlan plan, int numHeads, int r, int dr) {
        int groups = headGroups(numHeads);
        if (groups != plan.headGroups()) {
            throw new IllegalArgumentException("plan of " + plan.headGroups() + " head groups for " + numHeads
                    + " heads: ls_mla_decode_tc needs " + groups);
        }
        return new Grid(plan.launchItems(), groups, 1, 32 * KernelLimits.MLA_TC_WARPS, sharedBytes(r, dr));
    }
}

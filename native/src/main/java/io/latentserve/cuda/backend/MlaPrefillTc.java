package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.model.backend.AttentionBatch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * When and how ls_mla_prefill_tc (causal MLA prefill attention over the decompressed keys on tensor cores, the
 * FlashAttention-2 form: scores stay on the chip) runs in place of the cuBLAS path and ls_attention.
 *
 * <p>Its shapes: dn, dr and dv multiples of 16 (mma k-steps of one source: k_nope or k_rope; column pairs of
 * 16; dr may be 0), dn + dr at most {@link KernelLimits#MLA_PF_MAX_QK} (192) and dv at most
 * {@link KernelLimits#MLA_PF_MAX_DV} (128): Q fragments and O accumulators are register arrays sized at compile
 * time. DeepSeek-V2 / -Lite / V3 (128 + 64, 128) fit; anything else (the golden test models' 16 + 8) keeps the
 * old paths. Its shared memory (111,616 bytes at V2's shapes with 3 terms) must fit the GPU's opt-in limit.
 */
public final class MlaPrefillTc {
    private MlaPrefillTc() {
    }

    /** Whether ls_mla_prefill_tc takes this attention shape with this many hi/lo terms on this GPU. */
    public static boolean supports(int numHeads, int dn, int dr, int dv, int terms, int sharedOptIn) {
        return unsupported(numHeads, dn, dr, dv, terms, sharedOptIn).isEmpty();
    }

    /** Why ls_mla_prefill_tc does not take this shape, or empty when it does. */
    public static Optional<String> unsupported(int numHeads, int dn, int dr, int dv, int terms, int sharedOptIn) {
        if (terms != 1 && terms != 3) {
            return Optional.of(terms + " hi/lo terms: 1 or 3");
        }
        if (numHeads < 1 || numHeads > Grid.MAX_GRID_YZ || dn < 16 || dr < 0 || dv < 16) {
            return Optional.of(numHeads + " heads, dn " + dn + ", dr " + dr + ", dv " + dv
                    + ": needs heads, dn >= 16, dr >= 0, dv >= 16");
        }
        if (dn % 16 != 0 || dr % 16 != 0 || dv % 16 != 0) {
            return Optional.of("dn " + dn + ", dr " + dr + " and dv " + dv + " must be multiples of 16 (mma k-steps)");
        }
        if (dn + dr > KernelLimits.MLA_PF_MAX_QK || dv > KernelLimits.MLA_PF_MAX_DV) {
            return Optional.of("dn + dr " + (dn + dr) + " or dv " + dv + " above the kernel's "
                    + KernelLimits.MLA_PF_MAX_QK + " and " + KernelLimits.MLA_PF_MAX_DV);
        }
        int bytes = sharedBytes(dn + dr, dv, terms);
        if (bytes > Math.min(Grid.MAX_SHARED_OPTIN, Math.max(Grid.DEFAULT_MAX_SHARED, sharedOptIn))) {
            return Optional.of(bytes + " bytes of shared memory, the GPU allows " + sharedOptIn);
        }
        return Optional.empty();
    }

    /** Dynamic shared memory of one block ({@link KernelLimits#mlaPrefillTcSharedBytes}). */
    public static int sharedBytes(int qk, int dv, int terms) {
        return KernelLimits.mlaPrefillTcSharedBytes(qk, dv, terms);
    }

    /**
     * The work items of these sequences' new tokens, 4 ints each (first query row, query count, key row base, key
     * end): consecutive runs of at most {@link KernelLimits#MLA_PF_QUERIES} tokens of one sequence, whose keys
     * start at ctxBase[i] (the sequence's first row in the decompressed context). Key end is 1 + the run's last
     * position, so no block reads keys its queries cannot see. Ordered by key end, longest first (stable): blocks
     * start in grid order, so the long ones do not trail behind at the end of the launch.
     *
     * @param seqs    sequences of the batch, in the order their contexts were laid out
     * @param ctxBase first context row of each of seqs
     */
    public static int[] work(AttentionBatch batch, List<Integer> seqs, int[] ctxBase) {
        List<int[]> items = new ArrayList<>();
        for (int i = 0; i < seqs.size(); i++) {
            int seq = seqs.get(i);
            int first = batch.seqStarts()[seq];
            int end = batch.seqStarts()[seq + 1];
            int ctx = batch.contextLength(seq);
            for (int row = first; row < end; row += KernelLimits.MLA_PF_QUERIES) {
                int count = Math.min(KernelLimits.MLA_PF_QUERIES, end - row);
                int last = -1;
                for (int w = row; w < row + count; w++) {
                    int pos = batch.positions()[w];
                    if (pos < 0 || pos >= ctx) {
                        throw new IllegalArgumentException("token " + w + " at position " + pos
                                + " outside its sequence's context of " + ctx);
                    }
                    last = Math.max(last, pos);
                }
                items.add(new int[]{row, count, ctxBase[i], last + 1});
            }
        }
        items.sort(Comparator.comparingInt((int[] item) -> item[3]).reversed());
        int[] flat = new int[4 * items.size()];
        for (int i = 0; i < items.size(); i++) {
            System.arraycopy(items.get(i), 0, flat, 4 * i, 4);
        }
        return flat;
    }

    /** Whether one launch covers this many work items (grid y). */
    public static boolean fits(int numWork) {
        return numWork <= Grid.MAX_GRID_YZ;
    }

    /** Grid (heads, work items): the heads of one item side by side (they share its rope keys in L2). */
    public static Grid grid(int numHeads, int numWork, int qk, int dv, int terms) {
        return new Grid(numHeads, numWork, 1, 32 * KernelLimits.MLA_PF_WARPS, sharedBytes(qk, dv, terms));
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.AddParams;
import io.latentserve.cuda.kernels.CopyRowsParams;
import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.MlaLatentParams;
import io.latentserve.cuda.kernels.RmsNormParams;
import io.latentserve.cuda.kernels.RopeParams;
import io.latentserve.cuda.kernels.SiluMulParams;
import io.latentserve.model.backend.RopeStyle;
import io.latentserve.model.backend.RopeTable;

/**
 * The row-wise kernels of a layer, shapes checked before launch: RMSNorm (with the residual add fused in or
 * not), the residual add, SiLU·mul, RoPE over the device tables of {@link RopeTables}, and the write of new
 * rows into the paged KV cache.
 */
final class CudaElementwise {
    private final Kernels kernels;
    private final StepMemory memory;
    private final RopeTables ropeTables;

    CudaElementwise(Kernels kernels, StepMemory memory, RopeTables ropeTables) {
        this.kernels = kernels;
        this.memory = memory;
        this.ropeTables = ropeTables;
    }

    /** out = RMSNorm(x) · w, or with add: x += add first (the fused residual add). */
    void rmsNorm(CudaActivation x, CudaActivation add, CudaWeight w, float eps, CudaActivation out) {
        int n = x.cols();
        if ((long) w.rows() * w.cols() != n || out.cols() != n || out.rows() != x.rows()
                || add != null && (add.rows() != x.rows() || add.cols() != n)) {
            throw new IllegalArgumentException("rmsNorm over " + n + " values with a weight of "
                    + (long) w.rows() * w.cols());
        }
        kernels.launch(new RmsNormParams(x.address(), add == null ? 0 : add.address(), w.address(), out.address(),
                x.rows(), n, x.stride(), add == null ? 0 : add.stride(), out.stride(), w.dtype(), eps),
                Grid.of(x.rows(), KernelLimits.THREADS));
    }

    /** acc += x (same shapes). */
    void add(CudaActivation acc, CudaActivation x) {
        sameShape(acc, x);
        addInto(acc, acc, x);
    }

    /** o = SiLU(g) · u, all three of one shape. */
    void siluMul(CudaActivation g, CudaActivation u, CudaActivation o) {
        sameShape(g, u);
        sameShape(g, o);
        kernels.launch(new SiluMulParams(g.address(), u.address(), o.address(), g.rows(), g.cols(), g.stride(),
                u.stride(), o.stride()), Kernels.rowsByCols(g.rows(), g.cols()));
    }

    /**
     * Rotates numHeads heads of every row in place, each at its row's position, pairs interleaved or split in
     * halves as the table's style says.
     */
    void rope(CudaActivation a, int numHeads, int headStride, int ropeOffset, RopeTable rope, int[] positions) {
        int half = rope.invFreq().length;
        if (positions.length != a.rows() || numHeads < 1 || headStride < 0 || ropeOffset < 0
                || (long) (numHeads - 1) * headStride + ropeOffset + 2L * half > a.cols()) {
            throw new IllegalArgumentException("rope: " + numHeads + " heads of stride " + headStride
                    + " do not fit " + a.cols() + " columns, or positions do not match rows");
        }
        int maxPosition = maxPosition(positions, "rope");
        if (a.rows() == 0 || half == 0) {
            return;
        }
        RopeTables.Device table = ropeTables.covering(rope, maxPosition);
        int style = rope.style() == RopeStyle.INTERLEAVED ? KernelLimits.ROPE_INTERLEAVED : KernelLimits.ROPE_SPLIT_HALF;
        try (StepMemory.Scratch s = memory.scratch()) {
            kernels.launch(new RopeParams(a.address(), s.ints(positions), table.cos(), table.sin(), a.rows(), a.stride(),
                    numHeads, headStride, ropeOffset, half, style, table.rows()),
                    Grid.of(a.rows(), numHeads, KernelLimits.ROPE_THREADS));
        }
    }

    /** Row t of r into cache slot slotMapping[t] of the layer, in the cache's dtype. */
    void writeKvCache(CudaKvCache c, int layer, CudaActivation r, int[] slotMapping) {
        if (r.cols() != c.width() || r.rows() != slotMapping.length) {
            throw new IllegalArgumentException("KV rows [" + r.rows() + ", " + r.cols() + "] do not match cache width "
                    + c.width() + " and " + slotMapping.length + " slots");
        }
        PagedBatch.checkSlots(slotMapping, c.slots());
        long layerBase = c.layer(layer);
        try (StepMemory.Scratch s = memory.scratch()) {
            // a bf16 cache rounds each f32 value to nearest even here, as the CPU backend's bf16 cache does
            kernels.launch(new CopyRowsParams(r.address(), 0, layerBase, s.ints(slotMapping), r.rows(), r.cols(),
                    r.stride(), c.width(), KernelLimits.DTYPE_F32, c.kernelDtype()), Kernels.rowsByCols(r.rows(), r.cols()));
        }
    }

    /**
     * MLA's latent rows kv = [c | k_pe] finished in place (c normalised, k_pe rotated at the rows' positions) and
     * written to the layer's cache at their slots: one ls_mla_latent launch, the results of {@link #rmsNorm},
     * {@link #rope} and {@link #writeKvCache} bit for bit.
     */
    void mlaLatentRows(CudaActivation kv, int r, int dr, CudaWeight w, float eps, RopeTable rope, int[] positions,
                       CudaKvCache c, int layer, int[] slotMapping) {
        if (r < 1 || dr < 0 || dr % 2 != 0 || kv.cols() != r + dr || c.width() != r + dr
                || (long) w.rows() * w.cols() != r || rope.invFreq().length * 2 != dr
                || positions.length != kv.rows() || slotMapping.length != kv.rows()) {
            throw new IllegalArgumentException("MLA latent rows [" + kv.rows() + ", " + kv.cols() + "] as " + r + " + "
                    + dr + " (cache width " + c.width() + ", norm weight of " + (long) w.rows() * w.cols()
                    + ", rope of " + 2 * rope.invFreq().length + " dims, " + positions.length + " positions, "
                    + slotMapping.length + " slots)");
        }
        PagedBatch.checkSlots(slotMapping, c.slots());
        int maxPosition = maxPosition(positions, "MLA latent rows");
        if (kv.rows() == 0) {
            return;
        }
        RopeTables.Device table = ropeTables.covering(rope, maxPosition);
        int style = rope.style() == RopeStyle.INTERLEAVED ? KernelLimits.ROPE_INTERLEAVED : KernelLimits.ROPE_SPLIT_HALF;
        try (StepMemory.Scratch s = memory.scratch()) {
            kernels.launch(new MlaLatentParams(kv.address(), w.address(), s.ints(positions), table.cos(), table.sin(),
                    c.layer(layer), s.ints(slotMapping), kv.rows(), r, dr, kv.stride(), w.dtype(), style,
                    table.rows(), c.kernelDtype(), eps), Grid.of(kv.rows(), KernelLimits.THREADS));
        }
    }

    /** The largest position (the rope table must cover it); a negative one is refused. */
    private static int maxPosition(int[] positions, String what) {
        int max = 0;
        for (int p : positions) {
            if (p < 0) {
                throw new IllegalArgumentException(what + ": negative position " + p);
            }
            max = Math.max(max, p);
        }
        return max;
    }

    private static void sameShape(CudaActivation a, CudaActivation b) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw new IllegalArgumentException("shapes differ: " + a.rows() + "x" + a.cols() + " vs " + b.rows() + "x"
                    + b.cols());
        }
    }

    /** out = a + b (same shapes). */
    private void addInto(CudaActivation out, CudaActivation a, CudaActivation b) {
        kernels.launch(new AddParams(a.address(), b.address(), out.address(), a.rows(), a.cols(), a.stride(), b.stride(),
                out.stride()), Kernels.rowsByCols(a.rows(), a.cols()));
    }
}

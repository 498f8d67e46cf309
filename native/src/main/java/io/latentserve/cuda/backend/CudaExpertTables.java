package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.model.backend.ExpertWeights;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The device tables of expert weight addresses the fused MoE kernels index by expert id (each expert's
 * weights are separate allocations): built once per list of experts (one per MoE layer, keyed by value,
 * the weights being records of their addresses) in the weight arena, which lives as long as the weights.
 * A list the kernels cannot take (mixed dtypes or shapes, widths that are not multiples of 8 for the
 * 16-byte loads) has no table, and the caller keeps the cuBLAS path for it.
 *
 * <p>A layer's shared experts (one MLP of width S·inter) can be folded in as S more entries: an MLP of width
 * S·I is the sum of S MLPs of width I over slices of it (gate/up rows s·I .. (s+1)·I, down columns s·I ..), so
 * entry E + s points into the shared weights, its down slice with row stride S·I (the per-entry down strides).
 */
final class CudaExpertTables {
    /**
     * Addresses of the [entries] address arrays of gate_proj, up_proj and down_proj, and of the [entries] int32
     * row strides of the down weights; entries = numExperts routed experts, then numShared shared slices; and of the
     * entries' weight tensor maps for the wgmma kernels ({@link WeightTensorMaps}; 0 where there are none: not
     * compute capability 9.0, or weights they do not take).
     */
    record Table(long gate, long up, long down, long downStrides, int numExperts, int numShared, int dtype,
                 int hidden, int inter, long weightMaps) {
        /** Rows of the tables: routed experts and shared slices. */
        int entries() {
            return numExperts + numShared;
        }

        /** Bytes of the weights of one expert (gate, up and down). */
        long expertBytes() {
            return 3L * hidden * inter * (dtype == KernelLimits.DTYPE_BF16 ? 2 : 4);
        }
    }

    /** The kernels read 8 values at a time, one 16-byte load (bf16) or two (f32). */
    static final int VECTOR = 8;

    /** A layer's routed experts and its shared MLP (null for none): what a table is built from. */
    private record Key(List<ExpertWeights> experts, ExpertWeights shared) {
    }

    private final CudaContext ctx;
    private final Map<Key, Optional<Table>> tables = new HashMap<>();

    CudaExpertTables(CudaContext ctx) {
        this.ctx = ctx;
    }

    /** The table of these experts over inputs of width hidden, or empty when the fused kernels cannot take them. */
    Optional<Table> of(List<ExpertWeights> experts, int hidden) {
        return of(experts, null, hidden);
    }

    /**
     * The table of these experts with the shared MLP folded in (null: none), or empty when the fused kernels cannot
     * take them: also when the shared MLP's dtype differs from the experts' or its width is not a multiple of theirs.
     */
    Optional<Table> of(List<ExpertWeights> experts, ExpertWeights shared, int hidden) {
        Optional<Table> known = tables.get(new Key(experts, shared));
        if (known == null) {
            known = build(experts, shared);
            tables.put(new Key(List.copyOf(experts), shared), known);
        }
        return known.filter(t -> t.hidden() == hidden);
    }

    private Optional<Table> build(List<ExpertWeights> experts, ExpertWeights shared) {
        Optional<ExpertAddresses> found = ExpertAddresses.of(experts);
        if (found.isEmpty() || found.get().hidden() % VECTOR != 0 || found.get().inter() % VECTOR != 0
                || !found.get().aligned16()) {
            return Optional.empty();
        }
        ExpertAddresses x = found.get();
        long[][] slices = new long[3][0];
        if (shared != null) {
            Optional<long[][]> s = sharedSlices(shared, x);
            if (s.isEmpty()) {
                return Optional.empty();
            }
            slices = s.get();
        }
        int e = x.count();
        int numShared = slices[0].length;
        int n = e + numShared;
        int[] downStrides = new int[n];   // a shared slice's down columns sit in rows of the whole shared width
        for (int i = 0; i < n; i++) {
            downStrides[i] = i < e ? x.inter() : numShared * x.inter();
        }
        try (Arena host = Arena.ofConfined()) {
            MemorySegment seg = host.allocate(24L * n + 4L * n, 8); // 3 x [n] int64 addresses, [n] int32 strides
            long[][] routed = {x.gate(), x.up(), x.down()};
            for (int m = 0; m < 3; m++) {
                MemorySegment.copy(routed[m], 0, seg, ValueLayout.JAVA_LONG, 8L * m * n, e);
                MemorySegment.copy(slices[m], 0, seg, ValueLayout.JAVA_LONG, 8L * (m * n + e), numShared);
            }
            MemorySegment.copy(downStrides, 0, seg, ValueLayout.JAVA_INT, 24L * n, n);
            long table = ctx.weights().allocate(seg.byteSize());
            ctx.driver().memcpyHtoD(table, seg, seg.byteSize());
            long maps = 0;
            if (x.dtype() == KernelLimits.DTYPE_BF16 && x.hidden() % KernelLimits.MOE_TC_K == 0
                    && x.inter() % KernelLimits.MOE_TC_K == 0 && WeightTensorMaps.available(ctx)) {
                maps = WeightTensorMaps.build(ctx, concat(x.gate(), slices[0]), concat(x.up(), slices[1]),
                        concat(x.down(), slices[2]), downStrides, x.hidden(), x.inter());
            }
            return Optional.of(new Table(table, table + 8L * n, table + 16L * n, table + 24L * n, e, numShared,
                    x.dtype(), x.hidden(), x.inter(), maps));
        }
    }

    private static long[] concat(long[] routed, long[] shared) {
        long[] all = Arrays.copyOf(routed, routed.length + shared.length);
        System.arraycopy(shared, 0, all, routed.length, shared.length);
        return all;
    }

    /**
     * The addresses {gate[S], up[S], down[S]} of the shared MLP's S slices of the routed experts' width, or empty
     * when it does not split into them (dtype, shapes, alignment).
     */
    private static Optional<long[][]> sharedSlices(ExpertWeights shared, ExpertAddresses routed) {
        CudaWeight gate = CudaWeight.of(shared.gateProj(), "shared gate_proj");
        CudaWeight up = CudaWeight.of(shared.upProj(), "shared up_proj");
        CudaWeight down = CudaWeight.of(shared.downProj(), "shared down_proj");
        int inter = routed.inter();
        int width = gate.rows();
        boolean fits = width > 0 && width % inter == 0 && gate.cols() == routed.hidden()
                && up.rows() == width && up.cols() == routed.hidden()
                && down.rows() == routed.hidden() && down.cols() == width;
        boolean sameType = gate.dtype() == routed.dtype() && up.dtype() == routed.dtype()
                && down.dtype() == routed.dtype();
        if (!fits || !sameType || gate.address() % 16 != 0 || up.address() % 16 != 0 || down.address() % 16 != 0) {
            return Optional.empty();
        }
        int s = width / inter;
        long[][] slices = new long[3][s];
        for (int i = 0; i < s; i++) {
            slices[0][i] = gate.address() + gate.elementBytes() * i * inter * routed.hidden();
            slices[1][i] = up.address() + up.elementBytes() * i * inter * routed.hidden();
            slices[2][i] = down.address() + down.elementBytes() * i * inter;
        }
        return Optional.of(slices);
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.model.backend.ExpertWeights;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 */
final class CudaExpertTables {
    /** Addresses of the [numExperts] address arrays of gate_proj, up_proj and down_proj. */
    record Table(long gate, long up, long down, int numExperts, int dtype, int hidden, int inter) {
        /** Bytes of the weights of one expert (gate, up and down). */
        long expertBytes() {
            return 3L * hidden * inter * (dtype == KernelLimits.DTYPE_BF16 ? 2 : 4);
        }
    }

    /** The kernels read 8 values at a time, one 16-byte load (bf16) or two (f32). */
    static final int VECTOR = 8;

    private final CudaContext ctx;
    private final Map<List<ExpertWeights>, Optional<Table>> tables = new HashMap<>();

    CudaExpertTables(CudaContext ctx) {
        this.ctx = ctx;
    }

    /** The table of these experts over inputs of width hidden, or empty when the fused kernels cannot take them. */
    Optional<Table> of(List<ExpertWeights> experts, int hidden) {
        Optional<Table> known = tables.get(experts);
        if (known == null) {
            known = build(experts);
            tables.put(List.copyOf(experts), known);
        }
        return known.filter(t -> t.hidden() == hidden);
    }

    private Optional<Table> build(List<ExpertWeights> experts) {
        Optional<ExpertAddresses> found = ExpertAddresses.of(experts);
        if (found.isEmpty() || found.get().hidden() % VECTOR != 0 || found.get().inter() % VECTOR != 0
                || !found.get().aligned16()) {
            return Optional.empty();
        }
        ExpertAddresses x = found.get();
        int n = x.count();
        long[] addresses = new long[3 * n];
        System.arraycopy(x.gate(), 0, addresses, 0, n);
        System.arraycopy(x.up(), 0, addresses, n, n);
        System.arraycopy(x.down(), 0, addresses, 2 * n, n);
        long table = ctx.weights().allocate(8L * addresses.length);
        try (Arena host = Arena.ofConfined()) {
            MemorySegment seg = host.allocate(ValueLayout.JAVA_LONG, addresses.length);
            MemorySegment.copy(addresses, 0, seg, ValueLayout.JAVA_LONG, 0, addresses.length);
            ctx.driver().memcpyHtoD(table, seg, seg.byteSize());
        }
        return Optional.of(new Table(table, table + 8L * n, table + 16L * n, n, x.dtype(), x.hidden(), x.inter()));
    }
}

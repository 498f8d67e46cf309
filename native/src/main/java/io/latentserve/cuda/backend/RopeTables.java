package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.model.backend.RopeTable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * cos/sin tables [positions, half] f32 per RopeTable, computed on the host exactly as the CPU backend
 * computes them ((float) StrictMath.cos(pos · invFreq[i]) · amplitude, the angle an f32 product), so both
 * backends rotate by bit-identical factors, and the kernel needs no double-precision trigonometry (whose
 * slow path would use local memory). A table grows, in powers of two, to the largest position seen; it
 * lives outside the arenas (its own cuMemAlloc) because it outlives every step.
 */
final class RopeTables {
    private static final int MIN_ROWS = 256;

    /** One table on the device. */
    record Device(long cos, long sin, int rows, int half) {
    }

    private final CudaContext ctx;
    private final StepGraphs graphs;
    private final Map<RopeTable, Device> tables = new IdentityHashMap<>();

    RopeTables(CudaContext ctx, StepGraphs graphs) {
        this.ctx = ctx;
        this.graphs = graphs;
    }

    /** The table of this RopeTable covering positions [0, maxPosition]. */
    Device covering(RopeTable rope, int maxPosition) {
        Device d = tables.get(rope);
        if (d != null && d.rows() > maxPosition) {
            return d;
        }
        int rows = Math.max(MIN_ROWS, Integer.highestOneBit(Math.max(1, maxPosition)) * 2);
        Device grown = upload(rope, rows);
        if (d != null) {
            graphs.eager();    // recorded kernels may read the old table: issue them before it goes
            ctx.synchronize(); // the old table may still be read by queued kernels
            ctx.driver().memFree(d.cos());
        }
        tables.put(rope, grown);
        return grown;
    }

    private Device upload(RopeTable rope, int rows) {
        int half = rope.invFreq().length;
        long count = (long) rows * half;
        long base = ctx.driver().memAlloc(8 * Math.max(1, count));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(ValueLayout.JAVA_FLOAT, 2 * Math.max(1, count));
            for (int pos = 0; pos < rows; pos++) {
                for (int i = 0; i < half; i++) {
                    float angle = pos * rope.invFreq()[i]; // f32 product, as the reference computes it
                    long at = (long) pos * half + i;
                    host.setAtIndex(ValueLayout.JAVA_FLOAT, at, (float) StrictMath.cos(angle) * rope.amplitude());
                    host.setAtIndex(ValueLayout.JAVA_FLOAT, count + at, (float) StrictMath.sin(angle) * rope.amplitude());
                }
            }
            ctx.driver().memcpyHtoD(base, host, host.byteSize());
        }
        return new Device(base, base + 4 * count, rows, half);
    }

    void close() {
        for (Device d : tables.values()) {
            ctx.driver().memFree(d.cos());
        }
        tables.clear();
    }
}

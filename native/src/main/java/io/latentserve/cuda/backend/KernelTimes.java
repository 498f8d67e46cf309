package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPU time per kernel, for the benchmark's "where the time goes": while on, every launch issued now (not recorded
 * into a graph) is bracketed by two events on the stream, and {@link #collect} adds up the milliseconds between
 * them per kernel. Unlike timing each operation with a synchronisation, this measures the kernels alone, so their
 * sum beside a step's wall time shows how much of the step the GPU spends between kernels (launch gaps, host
 * work). Off by default: recording two events per launch costs host time.
 */
final class KernelTimes {
    private record Timed(String name, MemorySegment start, MemorySegment end) {
    }

    private final CudaContext ctx;
    private final List<Timed> pending = new ArrayList<>();
    private final Deque<MemorySegment> spare = new ArrayDeque<>();
    private boolean on;

    KernelTimes(CudaContext ctx) {
        this.ctx = ctx;
    }

    void on(boolean on) {
        this.on = on;
    }

    /** Issues work (one launch on the context's stream), timed under name while on. */
    void around(String name, Runnable issue) {
        if (!on) {
            issue.run();
            return;
        }
        MemorySegment start = event();
        MemorySegment end = event();
        ctx.driver().eventRecord(start, ctx.streamHandle());
        issue.run();
        ctx.driver().eventRecord(end, ctx.streamHandle());
        pending.add(new Timed(name, start, end));
    }

    /**
     * Waits for the timed launches and returns {calls, milliseconds} per name, most time first; forgets them.
     */
    Map<String, double[]> collect() {
        Map<String, double[]> byName = new LinkedHashMap<>();
        if (!pending.isEmpty()) {
            ctx.driver().eventSynchronize(pending.getLast().end());
        }
        for (Timed t : pending) {
            double[] sum = byName.computeIfAbsent(t.name(), k -> new double[2]);
            sum[0]++;
            sum[1] += ctx.driver().eventElapsedMillis(t.start(), t.end());
            spare.push(t.start());
            spare.push(t.end());
        }
        pending.clear();
        Map<String, double[]> sorted = new LinkedHashMap<>();
        byName.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[1], a.getValue()[1]))
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    void close() {
        collect();
        for (MemorySegment e : spare) {
            ctx.driver().eventDestroy(e);
        }
        spare.clear();
    }

    private MemorySegment event() {
        return spare.isEmpty() ? ctx.driver().eventCreate(0) : spare.pop();
    }
}

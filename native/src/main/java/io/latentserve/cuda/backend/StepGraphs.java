package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.driver.CudaDriver;
import io.latentserve.model.backend.BackendOptions;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Forward passes as CUDA graphs (serve --cuda-graphs on, or -Dlatentserve.cuda.graphs=true; off by default until
 * measured on a GPU).
 *
 * <p>While a pass runs, its stream operations (kernel launches, memsets) are recorded, not issued, each with a
 * signature: the kernel and its parameter bytes, or the addresses and sizes. Its uploads (token ids, positions,
 * slots, tables) are staged in pinned memory and read by the kernels from a device copy of that staging, which
 * one copy fills before the pass is issued, replayed or captured ({@link #beforeIssue}; their offsets and sizes
 * join the signature). The host work of the pass (the Java graph, planning, staging the step's
 * token ids and positions) still runs; only the driver calls wait. At the end of the pass a signature seen
 * before replays its captured graph (one launch instead of hundreds: decode at small batches is bound by
 * launches), a signature seen for the second time is captured then replayed, and a new one is issued as
 * recorded. Equal signatures mean equal launches with equal addresses, and the kernels read the uploads at equal
 * device offsets, which this pass's copy has just filled: what varies between decode steps (tokens, positions,
 * slots) is data, not parameters; the batch size is a parameter, so the engine pads decode steps to
 * {@link io.latentserve.model.backend.DecodeBuckets#GRAPHS} (CudaBackend#decodeBuckets) and one graph serves a
 * bucket. A graph holds no host address, so under async scheduling, where the steps
 * alternate two pinned staging sets, a decode shape is still one graph; the device-sampled tokens' gather
 * (ls_copy_rows from DeferredTokens' device buffer, a fixed address) is inside the graph, the sampling and the
 * tokens' copy to the host are issued after it, outside, followed by the event that frees the staging set.
 *
 * <p>cuBLAS GEMMs are recorded too ({@link #issue}), with their arguments as the signature: cuBLAS supports
 * stream capture when its workspace is set by the caller (CudaContext sets one per handle) and alpha/beta are
 * host scalars, which the capture takes by value. So decode at any batch size (ls_gemv or cuBLAS for the
 * dense products, fused MoE, ls_mla_decode) is one graph. -Dlatentserve.cuda.graphCublas=false makes a cuBLAS
 * call end the recording instead (for A/B runs on a GPU).
 *
 * <p>Anything that needs the stream's results or cannot be captured mid-pass (a download, a pageable copy,
 * freeing memory, the grouped MoE's host-sized cuBLAS call) calls {@link #eager()} first: the staged uploads are
 * copied, what was recorded is issued in order and the rest of the pass runs plainly. Prefill passes with more
 * than the fused MoE's tokens therefore never use graphs.
 */
final class StepGraphs implements AutoCloseable {
    /** Graphs kept (least recently used dropped) and signatures remembered as seen once. */
    private static final int MAX_GRAPHS = 32;
    private static final int MAX_SEEN = 256;
    /** Whether cuBLAS GEMMs are recorded into graphs (else each ends the recording of its pass). */
    static final boolean CAPTURE_CUBLAS = !"false".equals(System.getProperty("latentserve.cuda.graphCublas"));

    private final CudaContext ctx;
    private boolean enabled;
    private final List<Runnable> ops = new ArrayList<>();
    private Runnable prelude = () -> { };
    private long[] signature = new long[1024];
    private int length;
    private boolean deferring;
    private Arena structs = Arena.ofShared();
    private final Map<Signature, MemorySegment> graphs = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<Signature, Boolean> seen = new LinkedHashMap<>(16, 0.75f, true);
    private long replays;
    private long captures;

    private record Signature(long[] values) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Signature s && Arrays.equals(values, s.values);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values);
        }
    }

    StepGraphs(CudaContext ctx, boolean enabled) {
        this.ctx = ctx;
        this.enabled = enabled;
    }

    static boolean enabledByProperty() {
        return BackendOptions.graphsFromSystemProperty();
    }

    /**
     * A forward pass begins: record from now on. The stream may still run the previous pass (async scheduling):
     * recording issues nothing, and a capture starts on a busy stream, which only orders the graph's launch.
     */
    void beginPass() {
        if (!enabled) {
            return;
        }
        discard();
        deferring = true;
    }

    /** Whether passes are recorded and replayed (off from the start, or since a capture the driver refused). */
    boolean enabled() {
        return enabled;
    }

    boolean deferring() {
        return deferring;
    }

    /** Memory for recorded launches' parameter structs, kept until the pass ends. */
    Arena structs() {
        return structs;
    }

    /**
     * What runs before the recorded operations are issued, replayed or captured, outside any graph: StepMemory's
     * one copy of the pass's staged uploads to the device.
     */
    void beforeIssue(Runnable prelude) {
        this.prelude = prelude;
    }

    /** Records an operation: its signature values and how to issue it. */
    void record(Runnable issue, long... values) {
        sign(values);
        ops.add(issue);
    }

    /** Adds values to the pass's signature with no operation (an upload the prelude copies). */
    void sign(long... values) {
        if (length + values.length + 1 > signature.length) {
            signature = Arrays.copyOf(signature, Math.max(2 * signature.length, length + values.length + 1));
        }
        signature[length++] = values.length;
        System.arraycopy(values, 0, signature, length, values.length);
        length += values.length;
    }

    /**
     * Runs a stream operation now, or records it while the pass is recorded. The signature values must name
     * everything the operation does (addresses, sizes, scalars): equal signatures replay one graph.
     */
    void issue(Runnable op, long... values) {
        if (deferring) {
            record(op, values);
        } else {
            op.run();
        }
    }

    /** The signature values of a parameter struct: its bytes as longs (structs are 8-byte multiples). */
    static long[] bytesOf(MemorySegment struct) {
        return struct.toArray(ValueLayout.JAVA_LONG);
    }

    /** Issues what was recorded and runs the rest of the pass plainly. */
    void eager() {
        if (deferring) {
            deferring = false;
            prelude.run();
            issueRecorded();
        }
    }

    /** The pass is over (its results are about to be read): replay, capture or issue what was recorded. */
    void endPass() {
        if (!deferring) {
            return;
        }
        deferring = false;
        prelude.run();
        if (ops.isEmpty()) {
            clearRecord();
            return;
        }
        Signature key = new Signature(Arrays.copyOf(signature, length));
        MemorySegment exec = graphs.get(key);
        if (exec == null) {
            if (seen.put(key, Boolean.TRUE) == null) {      // first sight: not worth a capture yet
                trim(seen, MAX_SEEN);
                issueRecorded();
                return;
            }
            try {
                exec = capture();
            } catch (RuntimeException e) {
                // A capture the driver refuses must not cost the step: run it plainly, and stop recording.
                System.err.println("latentserve: CUDA graphs disabled for this process, a capture failed: " + e);
                enabled = false;
                issueRecorded();
                return;
            }
            graphs.put(key, exec);
            captures++;
            while (graphs.size() > MAX_GRAPHS) {
                Signature oldest = graphs.keySet().iterator().next();
                ctx.driver().graphExecDestroy(graphs.remove(oldest));
            }
        } else {
            replays++;
        }
        ctx.driver().graphLaunch(exec, ctx.stream());
        clearRecord();
    }

    long replays() {
        return replays;
    }

    long captures() {
        return captures;
    }

    /** The recorded operations captured and instantiated; nothing of them has run when this throws. */
    private MemorySegment capture() {
        CudaDriver d = ctx.driver();
        d.streamBeginCapture(ctx.stream(), CudaDriver.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        try {
            for (Runnable op : ops) {
                op.run();
            }
        } catch (RuntimeException e) {
            try {
                d.graphDestroy(d.streamEndCapture(ctx.stream()));
            } catch (RuntimeException ending) {
                e.addSuppressed(ending);
            }
            throw e;
        }
        MemorySegment graph = d.streamEndCapture(ctx.stream());
        try {
            return d.graphInstantiate(graph, 0);
        } finally {
            d.graphDestroy(graph);
        }
    }

    private void issueRecorded() {
        for (Runnable op : ops) {
            op.run();
        }
        clearRecord();
    }

    private void clearRecord() {
        ops.clear();
        length = 0;
    }

    /** Drops the record of a pass that did not end (an exception); structs of the last pass are freed. */
    private void discard() {
        clearRecord();
        deferring = false;
        structs.close();
        structs = Arena.ofShared();
    }

    private static void trim(Map<Signature, Boolean> map, int max) {
        while (map.size() > max) {
            map.remove(map.keySet().iterator().next());
        }
    }

    @Override
    public void close() {
        clearRecord();
        deferring = false;
        for (MemorySegment exec : graphs.values()) {
            ctx.driver().graphExecDestroy(exec);
        }
        graphs.clear();
        structs.close();
    }
}

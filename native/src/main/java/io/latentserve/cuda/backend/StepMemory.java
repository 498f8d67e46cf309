package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.memory.ArenaExhaustedException;
import io.latentserve.cuda.memory.DeviceArena;
import io.latentserve.cuda.memory.PinnedBuffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The activation arena, one step at a time. The Backend interface allocates activations per call and never
 * frees them, so the arena is reset between forward passes: {@link #beginStep()} explicitly, or
 * automatically by the first allocation after {@link #endStep()} (which {@code toHost} calls: a forward
 * pass ends by copying its logits to the host). Each reset starts a new generation, and an activation of
 * an older generation is refused by {@link #check} instead of aliasing newer data.
 *
 * <p>A pass launched with its tokens still on the way ({@link #endStepInFlight()}, async scheduling) may still
 * run when the next step begins: that step then does not wait for the stream. Device memory is reused in
 * stream order (the next pass's work queues behind the running one), so only the host staging matters: two
 * sets alternate, and a step that takes one back waits for the event recorded when its last user ended (after
 * the pass's work and its sampling were queued: with step graphs on, after the copy that reads the set). After
 * any step that ended by copying results to the host, a step begins on an idle stream as before. The rule: a
 * step's activations are valid until the next step begins (for the host) and for all work queued before it (for
 * the device); its staging until the step after next begins.
 *
 * <p>While a pass is recorded for step graphs ({@link StepGraphs}), its uploads are not copied one by one: the
 * pass's kernels read them from a device copy of the pinned staging at the same offsets, filled by one copy
 * queued just before the pass is issued, replayed or captured (outside the graph). A graph therefore holds no
 * host address: a decode shape is one signature and one graph whichever staging set the host filled, and the
 * graph has no copy nodes.
 *
 * <p>Inside one operation, {@link #scratch()} hands out temporary device memory released when the scope
 * closes: all work runs in order on one stream, so the next operation may reuse it at once. Host arrays
 * copied to the device (indices, positions) are staged in host memory kept until the step ends, so an
 * asynchronous copy can never read a freed buffer.
 */
final class StepMemory {
    /** Pinned staging per step: a V2-Lite decode step of 256 sequences at 4K context uploads under 1 MB. */
    private static final long PINNED_STAGING_BYTES = 8L << 20;

    private final CudaContext ctx;
    private final DeviceArena arena;
    private long generation;
    private boolean stepEnded;
    private Arena hostStaging = Arena.ofShared();
    /** Pinned staging for the step's uploads (pageable hostStaging takes what does not fit). */
    private PinnedStaging pinned;
    /** The other staging set while a launched pass may still read this one: [pinned, pageable, done event]. */
    private PinnedStaging otherPinned;
    private Arena otherHostStaging;
    private MemorySegment stagingDone;
    private MemorySegment otherStagingDone;
    /** The last step ended with its pass still running (endStepInFlight). */
    private boolean passInFlight;
    /** Pinned landing buffer for downloads (logits), grown on demand and kept. */
    private PinnedBuffer downloads;
    /** Where the step's stream operations go while a pass is recorded. */
    private final StepGraphs graphs;
    /**
     * With step graphs on: the device copy of the pinned staging, at the same offsets. A recorded pass's uploads
     * are read from here, filled by one copy when the pass is issued or replayed (see {@link #copyStaged}).
     */
    private final long stagedOnDevice;
    /** The pinned staging bytes [stagedFrom, stagedTo) the recorded pass uploaded and no copy has taken yet. */
    private long stagedFrom = -1;
    private long stagedTo;

    StepMemory(CudaContext ctx, StepGraphs graphs) {
        this.ctx = ctx;
        this.graphs = graphs;
        this.arena = ctx.activations();
        this.pinned = new PinnedStaging(ctx.driver(), PINNED_STAGING_BYTES);
        this.stagedOnDevice = graphs.enabled() ? ctx.driver().memAlloc(PINNED_STAGING_BYTES) : 0;
        graphs.beforeIssue(this::copyStaged);
    }

    long generation() {
        return generation;
    }

    /**
     * Frees every activation of the current step: waiting for the queued work first, or, after a pass left
     * running (endStepInFlight), switching to the other staging once its last user is done.
     */
    void beginStep() {
        graphs.eager();
        if (passInFlight) {
            switchStaging();          // graphs on or off: the event guards the set's last copies
        } else {
            ctx.synchronize();
        }
        passInFlight = false;
        arena.reset();
        hostStaging.close();
        hostStaging = Arena.ofShared();
        pinned.reset();
        stagedFrom = -1;
        generation++;
        stepEnded = false;
    }

    /** Takes the other staging set, waiting until the step that used it last is past its copies. */
    private void switchStaging() {
        if (otherPinned == null) {
            otherPinned = new PinnedStaging(ctx.driver(), PINNED_STAGING_BYTES);
            otherHostStaging = Arena.ofShared();
        } else if (otherStagingDone != null) {
            ctx.driver().eventSynchronize(otherStagingDone);
        }
        PinnedStaging p = pinned;
        pinned = otherPinned;
        otherPinned = p;
        Arena a = hostStaging;
        hostStaging = otherHostStaging;
        otherHostStaging = a;
        MemorySegment e = stagingDone;
        stagingDone = otherStagingDone;
        otherStagingDone = e;
    }

    /** The step's results are on the host: the next allocation may start a new step. */
    void endStep() {
        stepEnded = true;
    }

    /**
     * The step's work is queued but may still run (its results come later, see DeferredTokens): the next step
     * may begin without waiting for it, on the other staging set.
     */
    void endStepInFlight() {
        if (stagingDone == null) {
            stagingDone = ctx.driver().eventCreate(0);
        }
        ctx.driver().eventRecord(stagingDone, ctx.stream());
        stepEnded = true;
        passInFlight = true;
    }

    /** A zeroed f32 activation [rows, cols]. */
    CudaActivation activation(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("activation [" + rows + ", " + cols + "]");
        }
        if (stepEnded) {
            beginStep();
        }
        long count = (long) rows * cols;
        long address = allocate(4 * Math.max(1, count));
        if (count > 0 && !graphs.deferring()) {
            ctx.driver().memsetD32Async(address, 0, count, ctx.stream());
        } else if (count > 0) {
            MemorySegment stream = ctx.stream();
            graphs.record(() -> ctx.driver().memsetD32Async(address, 0, count, stream), 2, address, count);
        }
        return new CudaActivation(address, rows, cols, cols, generation);
    }

    /** An activation view of scratch memory (dense [rows, cols] at address). */
    CudaActivation view(long address, int rows, int cols) {
        return new CudaActivation(address, rows, cols, cols, generation);
    }

    void check(CudaActivation a, String what) {
        if (a.step() != generation) {
            throw new IllegalStateException(what + ": this activation belongs to an earlier step (the activation"
                    + " arena has been reset since; activations do not outlive the forward pass that made them)");
        }
    }

    long allocate(long bytes) {
        try {
            return arena.allocate(bytes);
        } catch (ArenaExhaustedException e) {
            throw new ArenaExhaustedException(e.getMessage() + "; the CUDA backend keeps every activation of a"
                    + " forward pass, so give it more with -Dlatentserve.cuda.activationMemory or run fewer tokens per batch");
        }
    }

    /** A scope for temporary device memory of one operation. */
    Scratch scratch() {
        return new Scratch(arena.mark());
    }

    final class Scratch implements AutoCloseable {
        private final long mark;

        private Scratch(long mark) {
            this.mark = mark;
        }

        long bytes(long n) {
            return allocate(Math.max(1, n));
        }

        long floats(long n) {
            return bytes(4 * n);
        }

        /** The values on the device (int32). */
        long ints(int[] values) {
            return upload(MemorySegment.ofArray(values));
        }

        long floats(float[] values) {
            return upload(MemorySegment.ofArray(values));
        }

        /** The values on the device (int64: device addresses, e.g. cuBLAS's pointer arrays). */
        long longs(long[] values) {
            return upload(MemorySegment.ofArray(values));
        }

        long doubles(double[] values) {
            return upload(MemorySegment.ofArray(values));
        }

        /**
         * Device memory holding a copy of values (native byte order): scratch with its copy queued on the stream,
         * or, while a pass is recorded, the staging's device copy that the pass's end fills.
         */
        private long upload(MemorySegment values) {
            long bytes = values.byteSize();
            if (bytes > 0 && graphs.deferring()) {
                MemorySegment host = pinned.take(bytes, DeviceArena.ALIGNMENT);   // as aligned as scratch
                if (host != null) {
                    MemorySegment.copy(values, 0, host, 0, bytes);
                    return staged(host);
                }
                graphs.eager();              // the step's pinned staging is used up: the rest runs plainly
            }
            long address = bytes(bytes);
            if (bytes > 0) {
                MemorySegment host = pinned.take(bytes);
                if (host == null) {          // used up: pageable, staged by the driver before the call returns
                    host = hostStaging.allocate(bytes, 8);
                }
                MemorySegment.copy(values, 0, host, 0, bytes);
                ctx.driver().memcpyHtoDAsync(address, host, bytes, ctx.stream());
            }
            return address;
        }

        @Override
        public void close() {
            arena.resetTo(mark);
        }
    }

    /**
     * An upload of the recorded pass, staged at host: its device address in the staging's device copy. The
     * signature gets its offset and size (tag 1), not the host address, so the pass's graph does not depend on
     * which staging set the host filled.
     */
    private long staged(MemorySegment host) {
        long offset = pinned.offsetOf(host);
        if (stagedFrom < 0) {
            stagedFrom = offset;
        }
        stagedTo = offset + host.byteSize();
        graphs.sign(1, offset, host.byteSize());
        return stagedOnDevice + offset;
    }

    /**
     * Queues one copy of what the recorded pass staged to the staging's device copy, before its operations are
     * issued, replayed or captured (StepGraphs' prelude, never inside a graph). In stream order it lands after
     * the previous pass has read the device copy and before this one reads it; the pinned set it reads stays
     * untouched until the event recorded after this pass (see endStepInFlight) or a full synchronize.
     */
    private void copyStaged() {
        if (stagedFrom >= 0) {
            ctx.driver().memcpyHtoDAsync(stagedOnDevice + stagedFrom, pinned.slice(stagedFrom, stagedTo),
                    stagedTo - stagedFrom, ctx.stream());
            stagedFrom = -1;
        }
    }

    /**
     * Copies device memory to the host once the stream has caught up, into pinned memory reused by every
     * call (no allocation, full PCIe speed): the segment is valid until the next call, so copy out of it.
     */
    MemorySegment downloadPinned(long address, long bytes) {
        graphs.eager();
        if (downloads == null || downloads.byteSize() < bytes) {
            if (downloads != null) {
                ctx.synchronize();
                downloads.close();
            }
            downloads = PinnedBuffer.allocate(ctx.driver(), Math.max(1 << 20, Long.highestOneBit(bytes) << 1));
        }
        MemorySegment host = downloads.segment().asSlice(0, bytes);
        if (bytes > 0) {
            ctx.driver().memcpyDtoHAsync(host, address, bytes, ctx.stream());
        }
        ctx.synchronize();
        return host;
    }

    /** Copies device memory to the host once the stream has caught up. */
    MemorySegment download(long address, long bytes, Arena into) {
        graphs.eager();
        MemorySegment host = into.allocate(Math.max(1, bytes), 8);
        if (bytes > 0) {
            ctx.driver().memcpyDtoHAsync(host, address, bytes, ctx.stream());
        }
        ctx.synchronize();
        return host;
    }

    void close() {
        hostStaging.close();
        pinned.close();
        if (otherPinned != null) {
            otherHostStaging.close();
            otherPinned.close();
        }
        for (MemorySegment e : new MemorySegment[]{stagingDone, otherStagingDone}) {
            if (e != null) {
                ctx.driver().eventDestroy(e);
            }
        }
        if (downloads != null) {
            downloads.close();
        }
        if (stagedOnDevice != 0) {
            ctx.driver().memFree(stagedOnDevice);
        }
    }
}

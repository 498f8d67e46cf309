package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.memory.PinnedBuffer;
import io.latentserve.model.backend.PendingRows;
import io.latentserve.model.backend.SampledRows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Device-sampled tokens on their way to the host (async scheduling, {@link CudaBackend#launchSampleRows}).
 * The sampler writes a pass's tokens into one device buffer, which stays valid until the next launched pass
 * samples (so that pass's embedding may gather them by marker first: all in stream order); their copy to a
 * pinned landing buffer is queued right after, with an event that {@link Pass#await()} waits for. Two landing
 * buffers alternate, since the host reads pass N's tokens while pass N+1's copy may already be landing; a
 * third launch awaits the pass whose buffer it takes, so nothing is overwritten unread.
 */
final class DeferredTokens implements AutoCloseable {
    private final CudaContext ctx;
    private long device;                                   // [capacity] int32: the latest pass's tokens
    private int capacity;
    private final PinnedBuffer[] landing = new PinnedBuffer[2];
    private final MemorySegment[] copied = new MemorySegment[2];
    private final Pass[] owner = new Pass[2];              // the pass whose tokens land in each buffer
    private int nextLanding;
    private Pass latest;

    DeferredTokens(CudaContext ctx) {
        this.ctx = ctx;
    }

    /** One launched pass's tokens: every row sampled on the device. */
    final class Pass implements PendingRows {
        private final int rows;
        private final int buffer;
        private SampledRows result;
        private RuntimeException failure;

        private Pass(int rows, int buffer) {
            this.rows = rows;
            this.buffer = buffer;
        }

        int rows() {
            return rows;
        }

        /** The device buffer holding this pass's tokens, while it is the latest launched pass. */
        long deviceTokens() {
            if (latest != this) {
                throw new IllegalStateException("a later pass has sampled since: its tokens replaced these on the device");
            }
            return device;
        }

        @Override
        public SampledRows await() {
            if (result == null && failure == null) {
                ctx.driver().eventSynchronize(copied[buffer]);
                int[] tokens = landing[buffer].segment().asSlice(0, 4L * rows).toArray(ValueLayout.JAVA_INT);
                try {
                    CudaSampler.check(tokens);
                    result = new SampledRows(tokens, new float[rows][]);
                } catch (RuntimeException e) {
                    failure = e;
                }
                owner[buffer] = null;
            }
            if (failure != null) {
                throw failure;
            }
            return result;
        }
    }

    boolean isLatest(PendingRows pass) {
        return pass != null && pass == latest;
    }

    /**
     * Where the next pass's sampler writes its rows tokens. Growing the buffer waits for the stream first
     * (queued work may still read the old one) and moves the latest pass's tokens along: that pass's
     * {@link Pass#deviceTokens} stay readable (the logit edits of the pass being sampled may count them).
     */
    long reserve(int rows) {
        if (rows > capacity) {
            ctx.synchronize();
            int grown = Math.max(256, Integer.highestOneBit(rows) << 1);
            long moved = ctx.driver().memAlloc(4L * grown);
            if (device != 0) {
                ctx.driver().memcpyDtoD(moved, device, 4L * capacity);
                ctx.driver().memFree(device);
            }
            capacity = grown;
            device = moved;
        }
        return device;
    }

    /** Queues the copy of the rows just sampled into {@link #reserve}'s buffer; the pass they belong to. */
    Pass queueCopy(int rows) {
        int b = nextLanding;
        nextLanding = 1 - b;
        if (owner[b] != null) {
            owner[b].await();         // launched two passes ago and never awaited: read it before it is overwritten
        }
        if (landing[b] == null || landing[b].byteSize() < 4L * rows) {
            if (landing[b] != null) {
                landing[b].close();
            }
            landing[b] = PinnedBuffer.allocate(ctx.driver(), 4L * Math.max(rows, capacity));
        }
        if (copied[b] == null) {
            copied[b] = ctx.driver().eventCreate(0);
        }
        ctx.driver().memcpyDtoHAsync(landing[b].segment(), device, 4L * rows, ctx.stream());
        ctx.driver().eventRecord(copied[b], ctx.stream());
        Pass pass = new Pass(rows, b);
        owner[b] = pass;
        latest = pass;
        return pass;
    }

    @Override
    public void close() {
        ctx.synchronize();
        for (int b = 0; b < 2; b++) {
            if (landing[b] != null) {
                landing[b].close();
            }
            if (copied[b] != null) {
                ctx.driver().eventDestroy(copied[b]);
            }
        }
        if (device != 0) {
            ctx.driver().memFree(device);
        }
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.driver.CudaDriver;
import io.latentserve.cuda.memory.PinnedBuffer;

import java.lang.foreign.MemorySegment;

/**
 * Page-locked host memory for one step's small uploads (token ids, positions, slot mappings, attention
 * metadata), handed out by bumping a pointer and reclaimed when the step ends. From pageable memory every
 * cuMemcpyHtoDAsync is staged by the driver before it returns (a few microseconds each, a few hundred per
 * decode step); from pinned memory it is a DMA queued on the stream. What does not fit is the caller's to
 * stage elsewhere.
 */
final class PinnedStaging implements AutoCloseable {
    private final PinnedBuffer buffer;
    private long used;

    PinnedStaging(CudaDriver driver, long bytes) {
        this.buffer = PinnedBuffer.allocate(driver, bytes);
    }

    /** bytes of staging (8-byte aligned), or null when the step has used it all. */
    MemorySegment take(long bytes) {
        return take(bytes, 8);
    }

    /** bytes of staging at an offset that is a multiple of alignment (a power of two), or null when used up. */
    MemorySegment take(long bytes, long alignment) {
        long at = (used + alignment - 1) & -alignment;
        if (at + bytes > buffer.byteSize()) {
            return null;
        }
        used = at + bytes;
        return buffer.segment().asSlice(at, bytes);
    }

    /** Where a segment {@link #take} handed out starts in this staging. */
    long offsetOf(MemorySegment taken) {
        return taken.address() - buffer.segment().address();
    }

    /** The staging bytes [from, to). */
    MemorySegment slice(long from, long to) {
        return buffer.segment().asSlice(from, to - from);
    }

    long byteSize() {
        return buffer.byteSize();
    }

    /** Only once the stream has passed every copy out of it: the caller synchronises first. */
    void reset() {
        used = 0;
    }

    @Override
    public void close() {
        buffer.close();
    }
}

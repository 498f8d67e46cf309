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
        long at = (used + 7) & ~7L;
        if (at + bytes > buffer.byteSize()) {
            return null;
        }
        used = at + bytes;
        return buffer.segment().asSlice(at, bytes);
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

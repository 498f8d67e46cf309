package io.latentserve.cuda.memory;

import io.latentserve.cuda.driver.CudaDriver;

import java.lang.foreign.MemorySegment;

/**
 * Page-locked host memory from cuMemHostAlloc, as a {@link MemorySegment}. Copies between it and the device
 * run asynchronously on a stream at full PCIe speed, which pageable memory cannot: the staging buffer for
 * token ids, positions and logits. Keep it alive until the stream that uses it has passed the copy.
 */
public final class PinnedBuffer implements AutoCloseable {
    private final CudaDriver driver;
    private final MemorySegment segment;
    private boolean closed;

    private PinnedBuffer(CudaDriver driver, MemorySegment segment) {
        this.driver = driver;
        this.segment = segment;
    }

    /** Portable pinned memory (usable from every context) of {@code bytes}. */
    public static PinnedBuffer allocate(CudaDriver driver, long bytes) {
        return allocate(driver, bytes, CudaDriver.CU_MEMHOSTALLOC_PORTABLE);
    }

    public static PinnedBuffer allocate(CudaDriver driver, long bytes, int flags) {
        return new PinnedBuffer(driver, driver.memHostAlloc(bytes, flags));
    }

    public MemorySegment segment() {
        if (closed) {
            throw new IllegalStateException("pinned buffer is closed");
        }
        return segment;
    }

    public long byteSize() {
        return segment.byteSize();
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            driver.memFreeHost(segment);
        }
    }
}

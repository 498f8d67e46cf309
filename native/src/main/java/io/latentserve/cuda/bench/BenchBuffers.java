package io.latentserve.cuda.bench;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.driver.CudaDriver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Device buffers of one kernel benchmark, straight from the driver (outside the backend's arenas): each
 * allocation is remembered and freed on close, after the stream has drained.
 */
final class BenchBuffers implements AutoCloseable {
    private final CudaContext ctx;
    private final CudaDriver driver;
    private final List<Long> owned = new ArrayList<>();
    private final Arena host = Arena.ofConfined();

    BenchBuffers(CudaContext ctx) {
        this.ctx = ctx;
        this.driver = ctx.driver();
    }

    /** At least 16 bytes of device memory. */
    long alloc(long bytes) {
        long p = driver.memAlloc(Math.max(16, bytes));
        owned.add(p);
        return p;
    }

    /** Device memory holding a copy of values. */
    long upload(int[] values) {
        long p = alloc(4L * values.length);
        MemorySegment seg = host.allocate(ValueLayout.JAVA_INT, Math.max(1, values.length));
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_INT, 0, values.length);
        driver.memcpyHtoD(p, seg, 4L * values.length);
        return p;
    }

    @Override
    public void close() {
        ctx.synchronize();
        for (long p : owned) {
            driver.memFree(p);
        }
        owned.clear();
        host.close();
    }
}

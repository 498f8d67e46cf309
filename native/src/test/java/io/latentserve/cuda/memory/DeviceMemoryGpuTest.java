package io.latentserve.cuda.memory;

import io.latentserve.cuda.driver.CudaDriver;
import io.latentserve.cuda.driver.GpuFixture;
import io.latentserve.cuda.driver.MemoryInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real arena and pinned buffer on GPU 0. */
@Tag("gpu")
class DeviceMemoryGpuTest {
    static GpuFixture gpu;
    static CudaDriver driver;

    @BeforeAll
    static void open() {
        gpu = GpuFixture.open();
        driver = gpu.driver;
    }

    @AfterAll
    static void close() {
        gpu.close();
    }

    @Test
    void arenaBlocksHoldWhatIsWrittenAndPinnedCopiesRoundTrip() {
        int n = 4096;
        long stream = driver.streamCreate();
        try (DeviceArena arena = new DeviceArena("activations", DeviceMemory.of(driver), 1 << 20);
             PinnedBuffer pinned = PinnedBuffer.allocate(driver, 4L * n)) {
            long a = arena.allocate(4L * n);
            long b = arena.allocate(4L * n);
            assertEquals(DeviceArena.align(4L * n), b - a);
            for (int i = 0; i < n; i++) {
                pinned.segment().setAtIndex(JAVA_INT, i, i * 7);
            }
            driver.memcpyHtoDAsync(a, pinned.segment(), 4L * n, stream);
            driver.memcpyDtoDAsync(b, a, 4L * n, stream);
            driver.memsetD32Async(a, -1, n, java.lang.foreign.MemorySegment.ofAddress(stream));
            driver.streamSynchronize(stream);
            pinned.segment().fill((byte) 0);
            driver.memcpyDtoHAsync(pinned.segment(), b, 4L * n, stream);
            driver.streamSynchronize(stream);
            for (int i = 0; i < n; i++) {
                assertEquals(i * 7, pinned.segment().getAtIndex(JAVA_INT, i));
            }
            arena.reset();
            assertEquals(a, arena.allocate(16));
            assertThrows(ArenaExhaustedException.class, () -> arena.allocate(2 << 20));
        } finally {
            driver.streamDestroy(stream);
        }
    }

    @Test
    void kvBudgetFromRealFreeMemory() {
        MemoryInfo info = driver.memGetInfo();
        long kv = KvCacheBudget.kvBytes(info.free(), "0.5");
        assertTrue(kv > 0 && kv <= info.free() / 2 + 1);
    }
}

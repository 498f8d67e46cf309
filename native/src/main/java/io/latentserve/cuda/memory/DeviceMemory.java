package io.latentserve.cuda.memory;

import io.latentserve.cuda.driver.CudaDriver;

/**
 * Where an arena gets its one block from. Real code passes {@link #of(CudaDriver)}; tests pass a fake so
 * the bump-allocation arithmetic is checked without a GPU.
 */
public interface DeviceMemory {

    /** Allocates {@code bytes} (positive) and returns the device address, at least 256-byte aligned. */
    long allocate(long bytes);

    void free(long address);

    /** cuMemAlloc / cuMemFree on the calling thread's current context. */
    static DeviceMemory of(CudaDriver driver) {
        return new DeviceMemory() {
            @Override
            public long allocate(long bytes) {
                return driver.memAlloc(bytes);
            }

            @Override
            public void free(long address) {
                driver.memFree(address);
            }
        };
    }
}

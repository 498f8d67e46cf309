package io.latentserve.cuda.driver;

/**
 * What the backend needs to know about one GPU, read once with cuDeviceGetName / cuDeviceGetAttribute /
 * cuDeviceTotalMem. The clock and bus width are informational (0 when the driver no longer reports them).
 *
 * @param sharedMemoryPerBlockOptin the most dynamic shared memory a kernel may opt into with
 *                                  {@link CudaDriver#funcSetMaxDynamicSharedMemory}
 */
public record DeviceInfo(int ordinal, String name, int computeMajor, int computeMinor, int multiprocessors,
                         long totalMemory, int sharedMemoryPerBlockOptin, int l2CacheBytes,
                         int memoryClockKHz, int memoryBusWidthBits) {

    /** e.g. 90 for sm_90 (H100/H200), 80 for sm_80 (A100). */
    public int computeCapability() {
        return computeMajor * 10 + computeMinor;
    }

    public boolean atLeast(int major, int minor) {
        return computeMajor > major || (computeMajor == major && computeMinor >= minor);
    }

    @Override
    public String toString() {
        return "GPU " + ordinal + " (" + name + ", sm_" + computeMajor + computeMinor + ", " + multiprocessors
                + " SMs, " + (totalMemory >> 20) + " MiB)";
    }
}

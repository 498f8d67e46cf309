package io.latentserve.cuda.kernels;

/** Launch shape of one kernel call: blocks (x, y, z), threads per block (x), dynamic shared memory bytes. */
public record Grid(int gx, int gy, int gz, int threads, int sharedBytes) {

    /** Hardware limits of every GPU LatentServe supports (compute capability 8.0 and later). */
    public static final int MAX_GRID_X = Integer.MAX_VALUE;
    public static final int MAX_GRID_YZ = 65535;
    public static final int MAX_THREADS = 1024;
    /** Dynamic shared memory a block gets without opting in. */
    public static final int DEFAULT_MAX_SHARED = 48 * 1024;
    /**
     * The most dynamic shared memory a block may opt into on any supported GPU (Hopper: 227 KiB; A100 allows
     * 163 KiB, sm_86/89 99 KiB: callers that need more than 48 KiB check DeviceInfo.sharedMemoryPerBlockOptin).
     * Above DEFAULT_MAX_SHARED, {@link KernelModule#launch} opts the kernel in before launching.
     */
    public static final int MAX_SHARED_OPTIN = 227 * 1024;

    public Grid {
        if (gx < 0 || gy < 0 || gz < 0 || gy > MAX_GRID_YZ || gz > MAX_GRID_YZ) {
            throw new IllegalArgumentException("grid " + gx + "x" + gy + "x" + gz + " outside the hardware limits");
        }
        if (threads < 1 || threads > MAX_THREADS || threads % 32 != 0) {
            throw new IllegalArgumentException("block of " + threads + " threads: must be a multiple of 32 up to "
                    + MAX_THREADS);
        }
        if (sharedBytes < 0 || sharedBytes > MAX_SHARED_OPTIN) {
            throw new IllegalArgumentException(sharedBytes + " bytes of dynamic shared memory: at most "
                    + MAX_SHARED_OPTIN);
        }
    }

    public static Grid of(int gx, int threads) {
        return new Grid(gx, 1, 1, threads, 0);
    }

    public static Grid of(int gx, int gy, int threads) {
        return new Grid(gx, gy, 1, threads, 0);
    }

    public Grid withShared(int bytes) {
        return new Grid(gx, gy, gz, threads, bytes);
    }

    /** No block to run (an empty batch): the launch is skipped. */
    public boolean isEmpty() {
        return gx == 0 || gy == 0 || gz == 0;
    }
}

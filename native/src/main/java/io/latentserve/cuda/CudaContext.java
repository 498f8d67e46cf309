package io.latentserve.cuda;

import io.latentserve.cuda.cublas.Cublas;
import io.latentserve.cuda.driver.CudaDriver;
import io.latentserve.cuda.driver.DeviceInfo;
import io.latentserve.cuda.driver.MemoryInfo;
import io.latentserve.cuda.memory.DeviceArena;
import io.latentserve.cuda.memory.DeviceMemory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Everything the CUDA backend runs on, opened once: the driver bindings, one GPU's primary context (made
 * current on the opening thread), one stream that all work is queued on, a cuBLAS handle bound to that
 * stream with its own workspace (so GEMMs can be captured into graphs), and the three device arenas:
 * weights, the latent KV cache, and activations (reset every step).
 *
 * <p>The backend that receives the context owns it and closes it from {@code Backend.close()}.
 * The driver keeps the current context per thread: a thread other than the opener must call
 * {@link #makeCurrent()} before its first CUDA call (cheap enough to do at the start of every step).
 *
 * <p>The stream is a blocking one (CU_STREAM_DEFAULT) on purpose: the synchronous cuMemcpy calls run on
 * the legacy default stream, which then waits for this stream, so a synchronous copy back to the host
 * always sees the results of the kernels queued before it.
 */
public final class CudaContext implements AutoCloseable {
    private final CudaDriver driver;
    private final Cublas cublas;
    private final DeviceInfo device;
    private final int cuDevice;
    private final MemorySegment primaryContext;
    private final MemorySegment stream;
    private final MemorySegment cublasHandle;
    private final long cublasWorkspace;
    private final long cublasWorkspaceBytes;
    private final DeviceArena weights;
    private final DeviceArena kvCache;
    private final DeviceArena activations;
    private final Deque<Runnable> cleanup;
    private boolean closed;

    private CudaContext(Builder b) {
        driver = b.driver;
        cublas = b.cublas;
        device = b.device;
        cuDevice = b.cuDevice;
        primaryContext = b.primaryContext;
        stream = b.stream;
        cublasHandle = b.cublasHandle;
        cublasWorkspace = b.cublasWorkspace;
        cublasWorkspaceBytes = b.cublasWorkspaceBytes;
        weights = b.weights;
        kvCache = b.kvCache;
        activations = b.activations;
        cleanup = b.cleanup;
    }

    /** Opens GPU {@code ordinal} with arenas of the given sizes, finding libcuda and cuBLAS the standard way. */
    public static CudaContext open(int ordinal, long weightBytes, long kvBytes, long activationBytes) {
        return open(CudaDriver.tryLoad().orElseThrow(), Cublas.tryLoad().orElseThrow(), ordinal,
                weightBytes, kvBytes, activationBytes);
    }

    public static CudaContext open(CudaDriver driver, Cublas cublas, int ordinal,
                                   long weightBytes, long kvBytes, long activationBytes) {
        if (weightBytes < 0 || kvBytes < 0 || activationBytes < 0) {
            throw new IllegalArgumentException("arena sizes must be >= 0, got weights " + weightBytes + ", kv "
                    + kvBytes + ", activations " + activationBytes);
        }
        return open(driver, cublas, ordinal, free -> new CudaMemoryPlan.Sizes(weightBytes, kvBytes, activationBytes));
    }

    /** Opens GPU {@code ordinal} and splits its free memory (after context and cuBLAS setup) by the plan. */
    public static CudaContext open(CudaDriver driver, Cublas cublas, int ordinal, CudaMemoryPlan plan) {
        return open(driver, cublas, ordinal, plan::resolve);
    }

    private interface Sizing {
        CudaMemoryPlan.Sizes sizes(long freeBytes);
    }

    private static CudaContext open(CudaDriver driver, Cublas cublas, int ordinal, Sizing sizing) {
        Builder b = new Builder(driver, cublas);
        try {
            driver.init();
            b.device = driver.deviceInfo(ordinal);
            b.cuDevice = driver.deviceGet(ordinal);
            b.primaryContext = driver.devicePrimaryCtxRetain(b.cuDevice);
            int dev = b.cuDevice;
            b.cleanup.push(() -> driver.devicePrimaryCtxRelease(dev));
            driver.ctxSetCurrent(b.primaryContext);

            MemorySegment stream = MemorySegment.ofAddress(driver.streamCreate(CudaDriver.CU_STREAM_DEFAULT));
            b.stream = stream;
            b.cleanup.push(() -> driver.streamDestroy(stream));

            long workspaceBytes = Cublas.RECOMMENDED_WORKSPACE_BYTES;
            long workspace = driver.memAlloc(workspaceBytes);
            b.cublasWorkspace = workspace;
            b.cublasWorkspaceBytes = workspaceBytes;
            b.cleanup.push(() -> driver.memFree(workspace));

            MemorySegment handle = cublas.create();
            b.cublasHandle = handle;
            b.cleanup.push(() -> cublas.destroy(handle));
            cublas.setStream(handle, stream);
            cublas.setWorkspace(handle, workspace, workspaceBytes);
            cublas.setMathMode(handle, Cublas.CUBLAS_DEFAULT_MATH);

            CudaMemoryPlan.Sizes sizes = sizing.sizes(driver.memGetInfo().free());
            DeviceMemory memory = DeviceMemory.of(driver);
            // Weights first, then activations, then the cache: the big long-lived blocks low in the address space.
            b.weights = arena(b, "weights", memory, sizes.weightBytes());
            b.activations = arena(b, "activations", memory, sizes.activationBytes());
            b.kvCache = arena(b, "kv cache", memory, sizes.kvBytes());
            return new CudaContext(b);
        } catch (RuntimeException e) {
            b.unwind(e);
            throw e;
        }
    }

    private static DeviceArena arena(Builder b, String name, DeviceMemory memory, long bytes) {
        DeviceArena arena = new DeviceArena(name, memory, bytes);
        b.cleanup.push(arena::close);
        return arena;
    }

    // ---- accessors ----

    public CudaDriver driver() {
        return driver;
    }

    public Cublas cublas() {
        return cublas;
    }

    /** The cuBLAS handle, already bound to {@link #stream()} and given a workspace. */
    public MemorySegment cublasHandle() {
        return cublasHandle;
    }

    public DeviceInfo device() {
        return device;
    }

    /** The CUdevice handle (for driver calls that take one). */
    public int cuDevice() {
        return cuDevice;
    }

    public MemorySegment primaryContext() {
        return primaryContext;
    }

    /** The stream all work goes on, as a handle for driver and cuBLAS calls. */
    public MemorySegment stream() {
        return stream;
    }

    /** The same stream as a raw address. */
    public long streamHandle() {
        return stream.address();
    }

    public long cublasWorkspace() {
        return cublasWorkspace;
    }

    public long cublasWorkspaceBytes() {
        return cublasWorkspaceBytes;
    }

    public DeviceArena weights() {
        return weights;
    }

    public DeviceArena kvCache() {
        return kvCache;
    }

    public DeviceArena activations() {
        return activations;
    }

    // ---- operations ----

    /** Makes this context current on the calling thread. */
    public void makeCurrent() {
        driver.ctxSetCurrent(primaryContext);
    }

    /** Waits for everything queued on the stream. */
    public void synchronize() {
        driver.streamSynchronize(stream);
    }

    public MemoryInfo memoryInfo() {
        return driver.memGetInfo();
    }

    /**
     * Waits for the stream, then frees the arenas, the cuBLAS handle and workspace and the stream, and
     * releases the primary context, in reverse order of creation. Failures are collected and the first is
     * thrown once everything has been attempted.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        try {
            makeCurrent();
            synchronize();
        } catch (RuntimeException e) {
            first = e;
        }
        first = runAll(cleanup, first);
        if (first != null) {
            throw first;
        }
    }

    private static RuntimeException runAll(Deque<Runnable> cleanup, RuntimeException first) {
        while (!cleanup.isEmpty()) {
            try {
                cleanup.pop().run();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        return first;
    }

    @Override
    public String toString() {
        return "CudaContext[" + device + ", " + weights + ", " + kvCache + ", " + activations + "]";
    }

    /** What open() has built so far, so a failure halfway releases exactly that. */
    private static final class Builder {
        final CudaDriver driver;
        final Cublas cublas;
        final Deque<Runnable> cleanup = new ArrayDeque<>();
        DeviceInfo device;
        int cuDevice;
        MemorySegment primaryContext;
        MemorySegment stream;
        MemorySegment cublasHandle;
        long cublasWorkspace;
        long cublasWorkspaceBytes;
        DeviceArena weights;
        DeviceArena kvCache;
        DeviceArena activations;

        Builder(CudaDriver driver, Cublas cublas) {
            this.driver = driver;
            this.cublas = cublas;
        }

        void unwind(RuntimeException cause) {
            RuntimeException failure = runAll(cleanup, null);
            if (failure != null) {
                cause.addSuppressed(failure);
            }
        }
    }
}

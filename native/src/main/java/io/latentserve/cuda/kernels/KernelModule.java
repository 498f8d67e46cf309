package io.latentserve.cuda.kernels;

import io.latentserve.cuda.driver.CudaDriver;
import io.latentserve.cuda.driver.CudaUnavailableException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The kernels of cuda-kernels/, built by nvcc into one fatbin that the native jar carries as a resource,
 * loaded with cuModuleLoadData (the driver picks the sm_90a or sm_80 machine code, or JIT-compiles the
 * compute_90 PTX on a newer GPU), every function fetched once. Launches take a {@link KernelParams}
 * record whose bytes are the kernel's one argument.
 */
public final class KernelModule implements AutoCloseable {
    public static final String FATBIN_RESOURCE = "/io/latentserve/cuda/latentserve_kernels.fatbin";
    public static final String HEADER_RESOURCE = "/io/latentserve/cuda/latentserve_params.h";
    /** First four bytes of a fatbin (0xBA55ED50, little-endian). */
    public static final int FATBIN_MAGIC = 0xBA55ED50;

    private final CudaDriver driver;
    private final MemorySegment module;
    private final Map<String, MemorySegment> functions = new LinkedHashMap<>();
    /** Dynamic shared memory each kernel has been opted into above the 48 KiB default (absent: none). */
    private final Map<String, Integer> sharedOptIn = new HashMap<>();
    private boolean closed;

    private KernelModule(CudaDriver driver, MemorySegment module) {
        this.driver = driver;
        this.module = module;
        for (String name : KernelParams.KERNELS) {
            functions.put(name, driver.moduleGetFunction(module, name));
        }
    }

    /** The fatbin built into this jar, or empty when nvcc was absent at build time. */
    public static Optional<byte[]> fatbin() {
        try (InputStream in = KernelModule.class.getResourceAsStream(FATBIN_RESOURCE)) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + FATBIN_RESOURCE, e);
        }
    }

    /** Loads the fatbin into the current context (the caller made it current on this thread). */
    public static KernelModule load(CudaDriver driver) {
        byte[] image = fatbin().orElseThrow(() -> new CudaUnavailableException(
                "this build carries no CUDA kernels (nvcc was not found when the native module was built)"));
        return new KernelModule(driver, driver.moduleLoadData(image));
    }

    public MemorySegment function(String name) {
        MemorySegment f = functions.get(name);
        if (f == null) {
            throw new IllegalArgumentException("no kernel " + name + " in " + FATBIN_RESOURCE);
        }
        return f;
    }

    /** Launches the kernel of these parameters on the stream; an empty grid launches nothing. */
    public void launch(KernelParams params, Grid grid, long stream) {
        try (Arena arena = Arena.ofConfined()) {
            launch(params.kernel(), grid, params.write(arena), stream);
        }
    }

    /**
     * Launches a kernel whose parameter struct is already written (a launch recorded now and issued later,
     * see the CUDA backend's step graphs); an empty grid launches nothing.
     */
    public void launch(String kernel, Grid grid, MemorySegment struct, long stream) {
        if (closed) {
            throw new IllegalStateException("kernel module is closed");
        }
        if (grid.isEmpty()) {
            return;
        }
        MemorySegment function = function(kernel);
        if (grid.sharedBytes() > Grid.DEFAULT_MAX_SHARED
                && grid.sharedBytes() > sharedOptIn.getOrDefault(kernel, 0)) {
            // A block may use more than 48 KiB of dynamic shared memory only once its function allows it
            // (a function attribute, not a stream operation: also fine while a stream is being captured).
            driver.funcSetMaxDynamicSharedMemory(function, grid.sharedBytes());
            sharedOptIn.put(kernel, grid.sharedBytes());
        }
        driver.launchKernel(function, grid.gx(), grid.gy(), grid.gz(), grid.threads(), 1, 1, grid.sharedBytes(),
                stream, struct);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            driver.moduleUnload(module);
        }
    }
}

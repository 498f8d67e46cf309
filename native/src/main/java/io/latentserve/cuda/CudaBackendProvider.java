package io.latentserve.cuda;

import io.latentserve.cuda.backend.CudaBackend;
import io.latentserve.cuda.cublas.Cublas;
import io.latentserve.cuda.driver.CudaDriver;
import io.latentserve.cuda.driver.CudaLibraries;
import io.latentserve.cuda.driver.DeviceInfo;
import io.latentserve.cuda.driver.LibraryLookup;
import io.latentserve.cuda.driver.Probe;
import io.latentserve.cuda.driver.SearchPath;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.BackendOptions;
import io.latentserve.model.backend.BackendProvider;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The "cuda" device for --device auto|cuda, found through {@link java.util.ServiceLoader}. Whether it can
 * run is decided once, step by step, and the first failing step is the reason shown to the user:
 * libcuda found and loadable (with where it looked), cuInit, at least one GPU, the chosen GPU at compute
 * capability 8.0 or newer (the kernels use bf16 and sm_80 features), cuBLAS found and loadable, and the
 * kernel fatbin present in this jar (absent when the build machine had no nvcc).
 *
 * <p>The GPU is chosen with {@code -Dlatentserve.cuda.device} (an ordinal, default 0; CUDA_VISIBLE_DEVICES
 * applies first, as always). Arena sizes come from {@link CudaMemoryPlan#fromSystemProperties()}.
 */
public final class CudaBackendProvider implements BackendProvider {
    public static final String FATBIN_RESOURCE = "/io/latentserve/cuda/latentserve_kernels.fatbin";
    public static final int MIN_COMPUTE_MAJOR = 8;
    public static final int MIN_COMPUTE_MINOR = 0;

    private final Map<String, String> env;
    private final Optional<Path> explicitCuda;
    private final Optional<Path> explicitCublas;
    private final Optional<SearchPath> searchPath;
    private final String fatbinResource;
    private final int ordinal;
    private Probe<Ready> probe;

    /** What a successful probe found, kept for {@link #create()}. */
    private record Ready(CudaDriver driver, Cublas cublas, DeviceInfo device, int driverVersion) {
    }

    /** The provider as the server uses it: this process's environment, -D options and the standard folders. */
    public CudaBackendProvider() {
        this(System.getenv(), CudaLibraries.explicitPath(CudaLibraries.CUDA),
                CudaLibraries.explicitPath(CudaLibraries.CUBLAS), Optional.empty(), FATBIN_RESOURCE,
                Integer.getInteger("latentserve.cuda.device", 0));
    }

    /**
     * A provider with its inputs given, for tests: the environment, explicit library paths, the folders to
     * search (empty for the standard ones), the fatbin's resource name and the GPU ordinal.
     */
    public CudaBackendProvider(Map<String, String> env, Optional<Path> explicitCuda, Optional<Path> explicitCublas,
                               Optional<SearchPath> searchPath, String fatbinResource, int ordinal) {
        this.env = Map.copyOf(env);
        this.explicitCuda = Objects.requireNonNull(explicitCuda);
        this.explicitCublas = Objects.requireNonNull(explicitCublas);
        this.searchPath = Objects.requireNonNull(searchPath);
        this.fatbinResource = Objects.requireNonNull(fatbinResource);
        this.ordinal = ordinal;
    }

    @Override
    public String device() {
        return "cuda";
    }

    @Override
    public Optional<String> unavailableReason() {
        return probe().reason();
    }

    /** One line on what was found, for the startup log; empty when unavailable. */
    public Optional<String> description() {
        return probe().value().map(r -> r.device() + ", driver supports CUDA " + r.driverVersion() / 1000 + "."
                + (r.driverVersion() % 1000) / 10 + ", libcuda " + r.driver().library() + ", cuBLAS "
                + r.cublas().library());
    }

    @Override
    public Backend create(BackendOptions options) {
        Probe<Ready> p = probe();
        if (!p.ok()) {
            throw new IllegalStateException("the CUDA backend is unavailable: " + p.reason().orElseThrow());
        }
        Ready ready = p.value().orElseThrow();
        CudaContext ctx = CudaContext.open(ready.driver(), ready.cublas(), ordinal, CudaMemoryPlan.fromSystemProperties());
        try {
            return CudaBackend.create(ctx, options.cudaGraphs(), options.matmulPrecision());
        } catch (RuntimeException | Error e) {
            try {
                ctx.close();
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    private synchronized Probe<Ready> probe() {
        if (probe == null) {
            try {
                probe = check();
            } catch (RuntimeException | LinkageError e) {
                // Anything unexpected (native access denied, a broken library) still means "use the CPU".
                probe = Probe.failed("probing the GPU failed: " + e);
            }
        }
        return probe;
    }

    private Probe<Ready> check() {
        LibraryLookup cudaLookup = lookup(CudaLibraries.CUDA, explicitCuda);
        // The system linker is asked too only with the standard search: a test's folders must be the whole story.
        Probe<CudaDriver> loaded = CudaDriver.tryLoad(cudaLookup, searchPath.isEmpty());
        if (!loaded.ok()) {
            return Probe.failed("no CUDA driver: " + loaded.reason().orElseThrow());
        }
        CudaDriver driver = loaded.value().orElseThrow();
        try {
            driver.init();
        } catch (RuntimeException e) {
            return Probe.failed(e.getMessage() + " (libcuda " + driver.library() + ")");
        }
        int count = driver.deviceGetCount();
        if (count == 0) {
            return Probe.failed("no CUDA device (cuDeviceGetCount returned 0)");
        }
        if (ordinal < 0 || ordinal >= count) {
            return Probe.failed("GPU " + ordinal + " was asked for (-Dlatentserve.cuda.device) but there "
                    + (count == 1 ? "is 1 CUDA device" : "are " + count + " CUDA devices"));
        }
        DeviceInfo device = driver.deviceInfo(ordinal);
        if (!device.atLeast(MIN_COMPUTE_MAJOR, MIN_COMPUTE_MINOR)) {
            return Probe.failed(device + " has compute capability " + device.computeMajor() + "."
                    + device.computeMinor() + "; the CUDA backend needs " + MIN_COMPUTE_MAJOR + "."
                    + MIN_COMPUTE_MINOR + " or newer (Ampere, Hopper, ...)");
        }
        int driverVersion = driver.driverVersion();
        Probe<Cublas> cublas = Cublas.tryLoad(lookup(CudaLibraries.CUBLAS, explicitCublas), env);
        if (!cublas.ok()) {
            return Probe.failed("no cuBLAS: " + cublas.reason().orElseThrow());
        }
        if (CudaBackendProvider.class.getResource(fatbinResource) == null) {
            return Probe.failed("the CUDA kernels (" + fatbinResource + ") are missing from this jar:"
                    + " this build was made without nvcc");
        }
        return Probe.ok(new Ready(driver, cublas.value().orElseThrow(), device, driverVersion));
    }

    private LibraryLookup lookup(String library, Optional<Path> explicit) {
        return searchPath.isPresent()
                ? CudaLibraries.find(library, env, explicit, searchPath.get())
                : CudaLibraries.find(library, env, explicit);
    }
}

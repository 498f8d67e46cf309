package io.latentserve.cuda.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hand-written FFM bindings to the CUDA driver API (libcuda.so.1), in the shape jextract would generate
 * for cuda.h, limited to what LatentServe uses. Each method sits next to the C prototype it binds; the
 * symbol looked up is the one cuda.h's {@code #define}s select (cuMemAlloc is exported as cuMemAlloc_v2,
 * and so on), checked against the CUDA 13.0 header.
 *
 * <p>Types: CUresult, CUdevice and enums are {@code int}; CUdeviceptr (unsigned long long) is a
 * {@code long} device address; size_t is {@code long}; opaque handles (CUcontext, CUstream, CUevent,
 * CUmodule, CUfunction, CUgraph, CUgraphExec) are {@link MemorySegment} addresses, with {@code long}
 * overloads for streams since those are passed around most. Host memory is a native
 * {@link MemorySegment} (heap segments cannot be handed to the driver).
 *
 * <p>Every status goes through {@link #check(int, String)}, which throws a {@link CudaException} naming the
 * call and the CUDA error. Calls made on every decode step allocate nothing on the Java heap or with malloc.
 *
 * <p>The driver keeps one current context per thread: after {@link #ctxSetCurrent} on one thread, another
 * thread must call it too before using device memory or streams.
 */
@SuppressWarnings("restricted") // FFM downcalls are this class's purpose; the server runs with --enable-native-access
public final class CudaDriver {
    // ---- constants from cuda.h (CUDA 13.0) ----
    public static final int CUDA_SUCCESS = 0;
    public static final int CUDA_ERROR_NO_DEVICE = 100;
    public static final int CUDA_ERROR_STUB_LIBRARY = 34;

    public static final int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
    public static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public static final int CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE = 36;
    public static final int CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH = 37;
    public static final int CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

    public static final int CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0;
    public static final int CU_FUNC_ATTRIBUTE_NUM_REGS = 4;
    public static final int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

    public static final int CU_STREAM_DEFAULT = 0;
    public static final int CU_STREAM_NON_BLOCKING = 1;
    public static final int CU_EVENT_DEFAULT = 0;
    public static final int CU_EVENT_BLOCKING_SYNC = 1;
    public static final int CU_EVENT_DISABLE_TIMING = 2;
    public static final int CU_STREAM_CAPTURE_MODE_GLOBAL = 0;
    public static final int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
    public static final int CU_STREAM_CAPTURE_MODE_RELAXED = 2;
    public static final int CU_MEMHOSTALLOC_PORTABLE = 0x01;
    public static final int CU_MEMHOSTALLOC_DEVICEMAP = 0x02;
    public static final int CU_MEMHOSTALLOC_WRITECOMBINED = 0x04;
    public static final long CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH = 1;

    private static final Linker LINKER = Linker.nativeLinker();

    /**
     * The kernelParams array of cuLaunchKernel: one pointer, since every LatentServe kernel takes a single
     * struct by value. One per thread, reused: the driver copies the parameters during the call.
     */
    private static final ThreadLocal<MemorySegment> LAUNCH_PARAMS =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(ADDRESS));

    private final String library;

    private final MethodHandle cuInit;
    private final MethodHandle cuDriverGetVersion;
    private final MethodHandle cuGetErrorName;
    private final MethodHandle cuGetErrorString;
    private final MethodHandle cuDeviceGetCount;
    private final MethodHandle cuDeviceGet;
    private final MethodHandle cuDeviceGetName;
    private final MethodHandle cuDeviceGetAttribute;
    private final MethodHandle cuDeviceTotalMem;
    private final MethodHandle cuDevicePrimaryCtxRetain;
    private final MethodHandle cuDevicePrimaryCtxRelease;
    private final MethodHandle cuCtxSetCurrent;
    private final MethodHandle cuCtxSynchronize;
    private final MethodHandle cuMemGetInfo;
    private final MethodHandle cuMemAlloc;
    private final MethodHandle cuMemFree;
    private final MethodHandle cuMemcpyHtoD;
    private final MethodHandle cuMemcpyDtoH;
    private final MethodHandle cuMemcpyDtoD;
    private final MethodHandle cuMemcpyHtoDAsync;
    private final MethodHandle cuMemcpyDtoHAsync;
    private final MethodHandle cuMemcpyDtoDAsync;
    private final MethodHandle cuMemsetD8;
    private final MethodHandle cuMemsetD32;
    private final MethodHandle cuMemsetD8Async;
    private final MethodHandle cuMemsetD32Async;
    private final MethodHandle cuMemHostAlloc;
    private final MethodHandle cuMemFreeHost;
    private final MethodHandle cuStreamCreate;
    private final MethodHandle cuStreamDestroy;
    private final MethodHandle cuStreamSynchronize;
    private final MethodHandle cuEventCreate;
    private final MethodHandle cuEventRecord;
    private final MethodHandle cuEventSynchronize;
    private final MethodHandle cuEventElapsedTime;
    private final String cuEventElapsedTimeSymbol;
    private final MethodHandle cuEventDestroy;
    private final MethodHandle cuModuleLoadData;
    private final MethodHandle cuModuleUnload;
    private final MethodHandle cuModuleGetFunction;
    private final MethodHandle cuFuncSetAttribute;
    private final MethodHandle cuFuncGetAttribute;
    private final MethodHandle cuLaunchKernel;
    private final MethodHandle cuStreamBeginCapture;
    private final MethodHandle cuStreamEndCapture;
    private final MethodHandle cuGraphInstantiateWithFlags;
    private final MethodHandle cuGraphLaunch;
    private final MethodHandle cuGraphExecDestroy;
    private final MethodHandle cuGraphDestroy;
    private final MethodHandle cuTensorMapEncodeTiled;   // null: a driver older than CUDA 12

    private CudaDriver(SymbolLookup lookup, String library) {
        this.library = library;
        Binder b = new Binder(lookup, library);
        cuInit = b.bind("cuInit", JAVA_INT, JAVA_INT);
        cuDriverGetVersion = b.bind("cuDriverGetVersion", JAVA_INT, ADDRESS);
        cuGetErrorName = b.bind("cuGetErrorName", JAVA_INT, JAVA_INT, ADDRESS);
        cuGetErrorString = b.bind("cuGetErrorString", JAVA_INT, JAVA_INT, ADDRESS);
        cuDeviceGetCount = b.bind("cuDeviceGetCount", JAVA_INT, ADDRESS);
        cuDeviceGet = b.bind("cuDeviceGet", JAVA_INT, ADDRESS, JAVA_INT);
        cuDeviceGetName = b.bind("cuDeviceGetName", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceGetAttribute = b.bind("cuDeviceGetAttribute", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceTotalMem = b.bind("cuDeviceTotalMem_v2", JAVA_INT, ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRetain = b.bind("cuDevicePrimaryCtxRetain", JAVA_INT, ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRelease = b.bind("cuDevicePrimaryCtxRelease_v2", JAVA_INT, JAVA_INT);
        cuCtxSetCurrent = b.bind("cuCtxSetCurrent", JAVA_INT, ADDRESS);
        cuCtxSynchronize = b.bind("cuCtxSynchronize", JAVA_INT);
        cuMemGetInfo = b.bind("cuMemGetInfo_v2", JAVA_INT, ADDRESS, ADDRESS);
        cuMemAlloc = b.bind("cuMemAlloc_v2", JAVA_INT, ADDRESS, JAVA_LONG);
        cuMemFree = b.bind("cuMemFree_v2", JAVA_INT, JAVA_LONG);
        cuMemcpyHtoD = b.bind("cuMemcpyHtoD_v2", JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG);
        cuMemcpyDtoH = b.bind("cuMemcpyDtoH_v2", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG);
        cuMemcpyDtoD = b.bind("cuMemcpyDtoD_v2", JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        cuMemcpyHtoDAsync = b.bind("cuMemcpyHtoDAsync_v2", JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
        cuMemcpyDtoHAsync = b.bind("cuMemcpyDtoHAsync_v2", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemcpyDtoDAsync = b.bind("cuMemcpyDtoDAsync_v2", JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemsetD8 = b.bind("cuMemsetD8_v2", JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG);
        cuMemsetD32 = b.bind("cuMemsetD32_v2", JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG);
        cuMemsetD8Async = b.bind("cuMemsetD8Async", JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS);
        cuMemsetD32Async = b.bind("cuMemsetD32Async", JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS);
        cuMemHostAlloc = b.bind("cuMemHostAlloc", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
        cuMemFreeHost = b.bind("cuMemFreeHost", JAVA_INT, ADDRESS);
        cuStreamCreate = b.bind("cuStreamCreate", JAVA_INT, ADDRESS, JAVA_INT);
        cuStreamDestroy = b.bind("cuStreamDestroy_v2", JAVA_INT, ADDRESS);
        cuStreamSynchronize = b.bind("cuStreamSynchronize", JAVA_INT, ADDRESS);
        cuEventCreate = b.bind("cuEventCreate", JAVA_INT, ADDRESS, JAVA_INT);
        cuEventRecord = b.bind("cuEventRecord", JAVA_INT, ADDRESS, ADDRESS);
        cuEventSynchronize = b.bind("cuEventSynchronize", JAVA_INT, ADDRESS);
        // CUDA 12.8 added cuEventElapsedTime_v2 and CUDA 13's header maps cuEventElapsedTime to it; older
        // drivers only export the original, which has the same signature.
        cuEventElapsedTimeSymbol = b.has("cuEventElapsedTime_v2") ? "cuEventElapsedTime_v2" : "cuEventElapsedTime";
        cuEventElapsedTime = b.bind(cuEventElapsedTimeSymbol, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        cuEventDestroy = b.bind("cuEventDestroy_v2", JAVA_INT, ADDRESS);
        cuModuleLoadData = b.bind("cuModuleLoadData", JAVA_INT, ADDRESS, ADDRESS);
        cuModuleUnload = b.bind("cuModuleUnload", JAVA_INT, ADDRESS);
        cuModuleGetFunction = b.bind("cuModuleGetFunction", JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        cuFuncSetAttribute = b.bind("cuFuncSetAttribute", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
        cuFuncGetAttribute = b.bind("cuFuncGetAttribute", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
        cuLaunchKernel = b.bind("cuLaunchKernel", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        cuStreamBeginCapture = b.bind("cuStreamBeginCapture_v2", JAVA_INT, ADDRESS, JAVA_INT);
        cuStreamEndCapture = b.bind("cuStreamEndCapture", JAVA_INT, ADDRESS, ADDRESS);
        cuGraphInstantiateWithFlags = b.bind("cuGraphInstantiateWithFlags", JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG);
        cuGraphLaunch = b.bind("cuGraphLaunch", JAVA_INT, ADDRESS, ADDRESS);
        cuGraphExecDestroy = b.bind("cuGraphExecDestroy", JAVA_INT, ADDRESS);
        cuGraphDestroy = b.bind("cuGraphDestroy", JAVA_INT, ADDRESS);
        cuTensorMapEncodeTiled = b.has("cuTensorMapEncodeTiled") ? b.bind("cuTensorMapEncodeTiled", JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT)
                : null;
    }

    // ---- loading ----

    /**
     * Loads libcuda from a file and binds every function. Throws {@link CudaUnavailableException} when the
     * file cannot be loaded or lacks a function (a driver older than CUDA 12).
     */
    public static CudaDriver load(Path libcuda) {
        CudaLibraries.requireSharedLibrary(libcuda, "the CUDA driver library");
        SymbolLookup lookup;
        try {
            // The global arena: a driver is never unloaded (its threads and handles outlive any scope here).
            lookup = SymbolLookup.libraryLookup(libcuda, Arena.global());
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            throw new CudaUnavailableException("could not load the CUDA driver library " + libcuda + ": " + e.getMessage(), e);
        }
        return new CudaDriver(lookup, libcuda.toString());
    }

    /**
     * Finds and loads libcuda as the server does: option, variable, standard folders, and when those come
     * back empty the system linker's own search for libcuda.so.1 (a driver in a folder only ld.so.conf lists).
     */
    public static Probe<CudaDriver> tryLoad() {
        return tryLoad(CudaLibraries.find(CudaLibraries.CUDA), true);
    }

    /** Loads the library a lookup found, or reports the lookup's failure. */
    public static Probe<CudaDriver> tryLoad(LibraryLookup lookup) {
        return tryLoad(lookup, false);
    }

    /**
     * @param askSystemLinker when a plain search found nothing, try dlopen("libcuda.so.1") before giving up;
     *                        never done for an explicit path, which must be honoured exactly
     */
    public static Probe<CudaDriver> tryLoad(LibraryLookup lookup, boolean askSystemLinker) {
        if (lookup.found()) {
            try {
                return Probe.ok(load(lookup.path().get()));
            } catch (CudaUnavailableException e) {
                return Probe.failed(e.getMessage());
            }
        }
        if (askSystemLinker && "search".equals(lookup.origin())) {
            SymbolLookup bySoname;
            try {
                bySoname = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
            } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
                return Probe.failed(lookup.describeFailure() + " (The system linker finds no libcuda.so.1 either.)");
            }
            try {
                return Probe.ok(new CudaDriver(bySoname, "libcuda.so.1 (system linker)"));
            } catch (CudaUnavailableException e) {
                return Probe.failed(e.getMessage());
            }
        }
        return Probe.failed(lookup.describeFailure());
    }

    /** The library file these bindings came from, for messages. */
    public String library() {
        return library;
    }

    // ---- errors ----

    /** Throws a {@link CudaException} naming {@code call} and the error unless {@code status} is CUDA_SUCCESS. */
    public void check(int status, String call) {
        if (status != CUDA_SUCCESS) {
            throw error(status, call);
        }
    }

    /** The exception for a failed call: the error's name and description come from the driver itself. */
    public CudaException error(int status, String call) {
        return new CudaException(call, status, errorName(status).orElse(null), errorString(status).orElse(null));
    }

    // CUresult cuGetErrorName(CUresult error, const char **pStr);
    /** The CUresult's name (e.g. CUDA_ERROR_OUT_OF_MEMORY), or empty when the driver does not know it. */
    public Optional<String> errorName(int status) {
        return errorText(cuGetErrorName, status);
    }

    // CUresult cuGetErrorString(CUresult error, const char **pStr);
    public Optional<String> errorString(int status) {
        return errorText(cuGetErrorString, status);
    }

    private static Optional<String> errorText(MethodHandle fn, int status) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int rc;
            try {
                rc = (int) fn.invokeExact(status, out);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            MemorySegment text = out.get(ADDRESS, 0);
            if (rc != CUDA_SUCCESS || text.equals(MemorySegment.NULL)) {
                return Optional.empty();
            }
            // The driver returns pointers to static strings; 1 KiB bounds the read in case one is not terminated.
            return Optional.of(text.reinterpret(1024).getString(0));
        }
    }

    // ---- initialization and devices ----

    // CUresult cuInit(unsigned int Flags);
    /** Initializes the driver; Flags must be 0. Fails with CUDA_ERROR_NO_DEVICE on machines without a GPU. */
    public void init() {
        int status;
        try {
            status = (int) cuInit.invokeExact(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuInit");
    }

    // CUresult cuDriverGetVersion(int *driverVersion);
    /** The CUDA version the driver supports, as 1000 * major + 10 * minor (12080 for 12.8). */
    public int driverVersion() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int status;
            try {
                status = (int) cuDriverGetVersion.invokeExact(out);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuDriverGetVersion");
            return out.get(JAVA_INT, 0);
        }
    }

    // CUresult cuDeviceGetCount(int *count);
    public int deviceGetCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int status;
            try {
                status = (int) cuDeviceGetCount.invokeExact(out);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuDeviceGetCount");
            return out.get(JAVA_INT, 0);
        }
    }

    // CUresult cuDeviceGet(CUdevice *device, int ordinal);
    /** The CUdevice handle of the GPU with this ordinal (0 .. deviceGetCount() - 1). */
    public int deviceGet(int ordinal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int status;
            try {
                status = (int) cuDeviceGet.invokeExact(out, ordinal);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuDeviceGet");
            return out.get(JAVA_INT, 0);
        }
    }

    // CUresult cuDeviceGetName(char *name, int len, CUdevice dev);
    public String deviceGetName(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(256);
            int status;
            try {
                status = (int) cuDeviceGetName.invokeExact(name, 256, device);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuDeviceGetName");
            return name.getString(0);
        }
    }

    // CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev);
    public int deviceGetAttribute(int attribute, int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int status;
            try {
                status = (int) cuDeviceGetAttribute.invokeExact(out, attribute, device);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuDeviceGetAttribute(" + attribute + ")");
            return out.get(JAVA_INT, 0);
        }
    }

    // CUresult cuDeviceTotalMem(size_t *bytes, CUdevice dev);   [cuDeviceTotalMem_v2]
    public long deviceTotalMem(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            int status;
            try {
                status = (int) cuDeviceTotalMem.invokeExact(out, device);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuDeviceTotalMem_v2");
            return out.get(JAVA_LONG, 0);
        }
    }

    /** Everything {@link DeviceInfo} holds about the GPU with this ordinal. Needs {@link #init()} first. */
    public DeviceInfo deviceInfo(int ordinal) {
        int dev = deviceGet(ordinal);
        return new DeviceInfo(ordinal, deviceGetName(dev),
                deviceGetAttribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev),
                deviceGetAttribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev),
                deviceGetAttribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev),
                deviceTotalMem(dev),
                deviceGetAttribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, dev),
                deviceGetAttribute(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, dev),
                attributeOrZero(CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, dev),
                attributeOrZero(CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, dev));
    }

    /** For informational attributes that newer drivers may stop reporting. */
    private int attributeOrZero(int attribute, int device) {
        try {
            return deviceGetAttribute(attribute, device);
        } catch (CudaException e) {
            return 0;
        }
    }

    // ---- contexts ----

    // CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev);
    /** The device's primary context (the one the runtime API and cuBLAS use too), retained once more. */
    public MemorySegment devicePrimaryCtxRetain(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) cuDevicePrimaryCtxRetain.invokeExact(out, device);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuDevicePrimaryCtxRetain");
            return out.get(ADDRESS, 0);
        }
    }

    // CUresult cuDevicePrimaryCtxRelease(CUdevice dev);   [cuDevicePrimaryCtxRelease_v2]
    public void devicePrimaryCtxRelease(int device) {
        int status;
        try {
            status = (int) cuDevicePrimaryCtxRelease.invokeExact(device);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuDevicePrimaryCtxRelease_v2");
    }

    // CUresult cuCtxSetCurrent(CUcontext ctx);
    /** Binds the context to the calling thread (each thread that touches the GPU needs this once). */
    public void ctxSetCurrent(MemorySegment context) {
        int status;
        try {
            status = (int) cuCtxSetCurrent.invokeExact(context);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuCtxSetCurrent");
    }

    // CUresult cuCtxSynchronize(void);
    public void ctxSynchronize() {
        int status;
        try {
            status = (int) cuCtxSynchronize.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuCtxSynchronize");
    }

    // ---- device memory ----

    // CUresult cuMemGetInfo(size_t *free, size_t *total);   [cuMemGetInfo_v2]
    public MemoryInfo memGetInfo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(JAVA_LONG);
            MemorySegment total = arena.allocate(JAVA_LONG);
            int status;
            try {
                status = (int) cuMemGetInfo.invokeExact(free, total);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuMemGetInfo_v2");
            return new MemoryInfo(free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0));
        }
    }

    // CUresult cuMemAlloc(CUdeviceptr *dptr, size_t bytesize);   [cuMemAlloc_v2]
    /** Allocates device memory (256-byte aligned by the driver); bytes must be positive. */
    public long memAlloc(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("cuMemAlloc_v2 needs a positive size, got " + bytes);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            int status;
            try {
                status = (int) cuMemAlloc.invokeExact(out, bytes);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuMemAlloc_v2(" + bytes + " bytes)");
            return out.get(JAVA_LONG, 0);
        }
    }

    // CUresult cuMemFree(CUdeviceptr dptr);   [cuMemFree_v2]
    public void memFree(long dptr) {
        int status;
        try {
            status = (int) cuMemFree.invokeExact(dptr);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuMemFree_v2");
    }

    /** Whether this driver encodes tensor maps (cuTensorMapEncodeTiled, CUDA 12 and later). */
    public boolean hasTensorMaps() {
        return cuTensorMapEncodeTiled != null;
    }

    // CUresult cuTensorMapEncodeTiled(CUtensorMap *tensorMap, CUtensorMapDataType tensorDataType,
    //     cuuint32_t tensorRank, void *globalAddress, const cuuint64_t *globalDim, const cuuint64_t *globalStrides,
    //     const cuuint32_t *boxDim, const cuuint32_t *elementStrides, CUtensorMapInterleave interleave,
    //     CUtensorMapSwizzle swizzle, CUtensorMapL2promotion l2Promotion, CUtensorMapFloatOOBfill oobFill);
    /**
     * Writes into {@code map} (128 bytes, 64-byte aligned host memory) the tensor map of a rank-2 tensor at device
     * address {@code address}: dims {inner, rows}, the row pitch in bytes (a multiple of 16), the box copied per
     * request {inner, rows}, unit element strides, no interleave; an opaque value the bulk tensor copy reads.
     */
    public void tensorMapEncodeTiled2d(MemorySegment map, int dataType, long address, long inner, long rows,
                                       long rowPitchBytes, int boxInner, int boxRows, int swizzle, int l2Promotion,
                                       int oobFill) {
        if (cuTensorMapEncodeTiled == null) {
            throw new CudaUnavailableException(library + " does not export cuTensorMapEncodeTiled (CUDA 12 or newer)");
        }
        if (map.byteSize() < 128 || map.address() % 64 != 0) {
            throw new IllegalArgumentException("a tensor map takes 128 bytes on a 64-byte boundary");
        }
        int status;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dims = a.allocateFrom(JAVA_LONG, inner, rows);
            MemorySegment strides = a.allocateFrom(JAVA_LONG, rowPitchBytes);
            MemorySegment box = a.allocateFrom(JAVA_INT, boxInner, boxRows);
            MemorySegment elementStrides = a.allocateFrom(JAVA_INT, 1, 1);
            status = (int) cuTensorMapEncodeTiled.invokeExact(map, dataType, 2, address, dims, strides, box,
                    elementStrides, 0, swizzle, l2Promotion, oobFill);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuTensorMapEncodeTiled");
    }

    // CUresult cuMemcpyHtoD(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount);   [cuMemcpyHtoD_v2]
    /**
     * Synchronous copy to the device on the legacy default stream, which waits for work on blocking streams
     * (such as the context's stream) first. src may be any native segment, including a mapped file.
     */
    public void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        requireHost(src, bytes, "cuMemcpyHtoD_v2");
        int status;
        try {
            status = (int) cuMemcpyHtoD.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuMemcpyHtoD_v2");
    }

    // CUresult cuMemcpyDtoH(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount);   [cuMemcpyDtoH_v2]
    public void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        requireHost(dst, bytes, "cuMemcpyDtoH_v2");
        int status;
        try {
            status = (int) cuMemcpyDtoH.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuMemcpyDtoH_v2");
    }

    // CUresult cuMemcpyDtoD(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount);   [cuMemcpyDtoD_v2]
    public void memcpyDtoD(long dst, long src, long bytes) {
        int status;
        try {
            status = (int) cuMemcpyDtoD.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuMemcpyDtoD_v2");
    }

    // CUresult cuMemcpyHtoDAsync(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount, CUstream hStream);
    //   [cuMemcpyHtoDAsync_v2]
    /** Asynchronous only when src is pinned ({@link #memHostAlloc}); src must stay valid until the stream passes. */
    public void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        requireHost(src, bytes, "cuMemcpyHtoDAsync_v2");
        int status;
        try {
            status = (int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuMemcpyHtoDAsync_v2");
    }

    public void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, long stream) {
        memcpyHtoDAsync(dst, src, bytes, MemorySegment.ofAddress(stream));
    }

    // CUresult cuMemcpyDtoHAsync(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream);
    //   [cuMemcpyDtoHAsync_v2]
    public void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        requireHost(dst, bytes, "cuMemcpyDtoHAsync_v2");
        int status;
        try {
            status = (int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuMemcpyDtoHAsync_v2");
    }

    public void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, long stream) {
        memcpyDtoHAsync(dst, src, bytes, MemorySegment.ofAddress(stream));
    }

    // CUresult cuMemcpyDtoDAsync(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream);
    //   [cuMemcpyDtoDAsync_v2]
    public void memcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        int status;
        try {
            status = (int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuMemcpyDtoDAsync_v2");
    }

    public void memcpyDtoDAsync(long dst, long src, long bytes, long stream) {
        memcpyDtoDAsync(dst, src, bytes, MemorySegment.ofAddress(stream));
    }

    // CUresult cuMemsetD8(CUdeviceptr dstDevice, unsigned char uc, size_t N);   [cuMemsetD8_v2]
    public void memsetD8(long dst, byte value, long count) {
        int status;
        try {
            status = (int) cuMemsetD8.invokeExact(dst, value, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuMemsetD8_v2");
    }

    // CUresult cuMemsetD32(CUdeviceptr dstDevice, unsigned int ui, size_t N);   [cuMemsetD32_v2]
    /** Sets {@code count} 32-bit words (dst 4-byte aligned); Float.floatToRawIntBits fills floats. */
    public void memsetD32(long dst, int value, long count) {
        int status;
        try {
            status = (int) cuMemsetD32.invokeExact(dst, value, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuMemsetD32_v2");
    }

    // CUresult cuMemsetD8Async(CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream);
    /** The stream-ordered memset; the only kind allowed while a stream is being captured into a graph. */
    public void memsetD8Async(long dst, byte value, long count, MemorySegment stream) {
        int status;
        try {
            status = (int) cuMemsetD8Async.invokeExact(dst, value, count, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuMemsetD8Async");
    }

    // CUresult cuMemsetD32Async(CUdeviceptr dstDevice, unsigned int ui, size_t N, CUstream hStream);
    public void memsetD32Async(long dst, int value, long count, MemorySegment stream) {
        int status;
        try {
            status = (int) cuMemsetD32Async.invokeExact(dst, value, count, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuMemsetD32Async");
    }

    // ---- pinned host memory ----

    // CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int Flags);
    /** Page-locked host memory of {@code bytes}, as a segment of that size; free it with {@link #memFreeHost}. */
    public MemorySegment memHostAlloc(long bytes, int flags) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("cuMemHostAlloc needs a positive size, got " + bytes);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) cuMemHostAlloc.invokeExact(out, bytes, flags);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuMemHostAlloc(" + bytes + " bytes)");
            return out.get(ADDRESS, 0).reinterpret(bytes);
        }
    }

    // CUresult cuMemFreeHost(void *p);
    public void memFreeHost(MemorySegment pointer) {
        int status;
        try {
            status = (int) cuMemFreeHost.invokeExact(pointer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuMemFreeHost");
    }

    // ---- streams and events ----

    // CUresult cuStreamCreate(CUstream *phStream, unsigned int Flags);
    /** A blocking stream (CU_STREAM_DEFAULT): ordered with the legacy default stream used by the sync copies. */
    public long streamCreate() {
        return streamCreate(CU_STREAM_DEFAULT);
    }

    public long streamCreate(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) cuStreamCreate.invokeExact(out, flags);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuStreamCreate");
            return out.get(ADDRESS, 0).address();
        }
    }

    // CUresult cuStreamDestroy(CUstream hStream);   [cuStreamDestroy_v2]
    public void streamDestroy(MemorySegment stream) {
        int status;
        try {
            status = (int) cuStreamDestroy.invokeExact(stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuStreamDestroy_v2");
    }

    public void streamDestroy(long stream) {
        streamDestroy(MemorySegment.ofAddress(stream));
    }

    // CUresult cuStreamSynchronize(CUstream hStream);
    public void streamSynchronize(MemorySegment stream) {
        int status;
        try {
            status = (int) cuStreamSynchronize.invokeExact(stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuStreamSynchronize");
    }

    public void streamSynchronize(long stream) {
        streamSynchronize(MemorySegment.ofAddress(stream));
    }

    // CUresult cuEventCreate(CUevent *phEvent, unsigned int Flags);
    public MemorySegment eventCreate(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) cuEventCreate.invokeExact(out, flags);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuEventCreate");
            return out.get(ADDRESS, 0);
        }
    }

    // CUresult cuEventRecord(CUevent hEvent, CUstream hStream);
    public void eventRecord(MemorySegment event, MemorySegment stream) {
        int status;
        try {
            status = (int) cuEventRecord.invokeExact(event, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuEventRecord");
    }

    public void eventRecord(MemorySegment event, long stream) {
        eventRecord(event, MemorySegment.ofAddress(stream));
    }

    // CUresult cuEventSynchronize(CUevent hEvent);
    public void eventSynchronize(MemorySegment event) {
        int status;
        try {
            status = (int) cuEventSynchronize.invokeExact(event);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuEventSynchronize");
    }

    // CUresult cuEventElapsedTime(float *pMilliseconds, CUevent hStart, CUevent hEnd);   [cuEventElapsedTime_v2]
    /** Milliseconds between two recorded (and completed) events created without CU_EVENT_DISABLE_TIMING. */
    public float eventElapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_FLOAT);
            int status;
            try {
                status = (int) cuEventElapsedTime.invokeExact(out, start, end);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, cuEventElapsedTimeSymbol);
            return out.get(JAVA_FLOAT, 0);
        }
    }

    // CUresult cuEventDestroy(CUevent hEvent);   [cuEventDestroy_v2]
    public void eventDestroy(MemorySegment event) {
        int status;
        try {
            status = (int) cuEventDestroy.invokeExact(event);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuEventDestroy_v2");
    }

    // ---- modules and kernels ----

    // CUresult cuModuleLoadData(CUmodule *module, const void *image);
    /**
     * Loads a fatbin, cubin or NUL-terminated PTX image from native memory; the driver picks the machine
     * code for this GPU (or JIT-compiles the PTX) and copies what it needs, so the image may be freed after.
     */
    public MemorySegment moduleLoadData(MemorySegment image) {
        requireHost(image, 1, "cuModuleLoadData");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) cuModuleLoadData.invokeExact(out, image);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuModuleLoadData");
            return out.get(ADDRESS, 0);
        }
    }

    /** As {@link #moduleLoadData(MemorySegment)} for an image in a byte array (a NUL is appended for PTX). */
    public MemorySegment moduleLoadData(byte[] image) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment copy = arena.allocate(image.length + 1L, 16);
            MemorySegment.copy(image, 0, copy, JAVA_BYTE, 0, image.length);
            return moduleLoadData(copy);
        }
    }

    // CUresult cuModuleUnload(CUmodule hmod);
    public void moduleUnload(MemorySegment module) {
        int status;
        try {
            status = (int) cuModuleUnload.invokeExact(module);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuModuleUnload");
    }

    // CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name);
    /** The kernel with this (extern "C", so unmangled) name; CUDA_ERROR_NOT_FOUND names it in the message. */
    public MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            MemorySegment cName = arena.allocateFrom(name);
            int status;
            try {
                status = (int) cuModuleGetFunction.invokeExact(out, module, cName);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuModuleGetFunction(" + name + ")");
            return out.get(ADDRESS, 0);
        }
    }

    // CUresult cuFuncSetAttribute(CUfunction hfunc, CUfunction_attribute attrib, int value);
    public void funcSetAttribute(MemorySegment function, int attribute, int value) {
        int status;
        try {
            status = (int) cuFuncSetAttribute.invokeExact(function, attribute, value);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuFuncSetAttribute(" + attribute + ", " + value + ")");
    }

    /** Lets a kernel use more than the default 48 KiB of dynamic shared memory (up to the device's opt-in limit). */
    public void funcSetMaxDynamicSharedMemory(MemorySegment function, int bytes) {
        funcSetAttribute(function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
    }

    // CUresult cuFuncGetAttribute(int *pi, CUfunction_attribute attrib, CUfunction hfunc);
    public int funcGetAttribute(MemorySegment function, int attribute) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int status;
            try {
                status = (int) cuFuncGetAttribute.invokeExact(out, attribute, function);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuFuncGetAttribute(" + attribute + ")");
            return out.get(JAVA_INT, 0);
        }
    }

    // CUresult cuLaunchKernel(CUfunction f,
    //                         unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
    //                         unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
    //                         unsigned int sharedMemBytes, CUstream hStream,
    //                         void **kernelParams, void **extra);
    /**
     * Launches a kernel whose one parameter is a struct passed by value, as every LatentServe kernel is
     * ({@code extern "C" __global__ void k(const KParams p)}). kernelParams must then be a {@code void*[1]}
     * whose element points at the struct's bytes: this method builds that array (one per thread, reused) and
     * points it at {@code paramStruct}, which must be native memory laid out exactly like the C struct
     * (natural alignment, 8-byte pointers; at most 4 KiB on all supported drivers).
     *
     * <p>The driver copies the struct during the call, also while capturing a graph, so paramStruct may be
     * rewritten for the next launch as soon as this returns. {@code extra} is passed as NULL.
     */
    public void launchKernel(MemorySegment function, int gx, int gy, int gz, int bx, int by, int bz,
                             int sharedBytes, MemorySegment stream, MemorySegment paramStruct) {
        if (!paramStruct.isNative()) {
            throw new IllegalArgumentException("cuLaunchKernel: the parameter struct must be native memory");
        }
        MemorySegment params = LAUNCH_PARAMS.get();
        params.set(ADDRESS, 0, paramStruct);
        int status;
        try {
            status = (int) cuLaunchKernel.invokeExact(function, gx, gy, gz, bx, by, bz, sharedBytes, stream,
                    params, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (status != CUDA_SUCCESS) {
            throw error(status, "cuLaunchKernel(grid " + gx + "x" + gy + "x" + gz + ", block " + bx + "x" + by
                    + "x" + bz + ", shared " + sharedBytes + ")");
        }
    }

    public void launchKernel(MemorySegment function, int gx, int gy, int gz, int bx, int by, int bz,
                             int sharedBytes, long stream, MemorySegment paramStruct) {
        launchKernel(function, gx, gy, gz, bx, by, bz, sharedBytes, MemorySegment.ofAddress(stream), paramStruct);
    }

    // ---- stream capture and graphs ----

    // CUresult cuStreamBeginCapture(CUstream hStream, CUstreamCaptureMode mode);   [cuStreamBeginCapture_v2]
    /**
     * Starts recording the work queued on a stream into a graph instead of running it. In GLOBAL mode any
     * unsafe call from any thread (a synchronous copy, cuMemAlloc) fails while the capture is on.
     */
    public void streamBeginCapture(MemorySegment stream, int mode) {
        int status;
        try {
            status = (int) cuStreamBeginCapture.invokeExact(stream, mode);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuStreamBeginCapture_v2");
    }

    public void streamBeginCapture(long stream, int mode) {
        streamBeginCapture(MemorySegment.ofAddress(stream), mode);
    }

    // CUresult cuStreamEndCapture(CUstream hStream, CUgraph *phGraph);
    /** Ends the capture and returns the recorded graph (free with {@link #graphDestroy}). */
    public MemorySegment streamEndCapture(MemorySegment stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) cuStreamEndCapture.invokeExact(stream, out);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuStreamEndCapture");
            return out.get(ADDRESS, 0);
        }
    }

    public MemorySegment streamEndCapture(long stream) {
        return streamEndCapture(MemorySegment.ofAddress(stream));
    }

    // CUresult cuGraphInstantiateWithFlags(CUgraphExec *phGraphExec, CUgraph hGraph, unsigned long long flags);
    public MemorySegment graphInstantiate(MemorySegment graph, long flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) cuGraphInstantiateWithFlags.invokeExact(out, graph, flags);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            check(status, "cuGraphInstantiateWithFlags");
            return out.get(ADDRESS, 0);
        }
    }

    // CUresult cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream);
    public void graphLaunch(MemorySegment graphExec, MemorySegment stream) {
        int status;
        try {
            status = (int) cuGraphLaunch.invokeExact(graphExec, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuGraphLaunch");
    }

    public void graphLaunch(MemorySegment graphExec, long stream) {
        graphLaunch(graphExec, MemorySegment.ofAddress(stream));
    }

    // CUresult cuGraphExecDestroy(CUgraphExec hGraphExec);
    public void graphExecDestroy(MemorySegment graphExec) {
        int status;
        try {
            status = (int) cuGraphExecDestroy.invokeExact(graphExec);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuGraphExecDestroy");
    }

    // CUresult cuGraphDestroy(CUgraph hGraph);
    public void graphDestroy(MemorySegment graph) {
        int status;
        try {
            status = (int) cuGraphDestroy.invokeExact(graph);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(status, "cuGraphDestroy");
    }

    // ---- helpers ----

    private static void requireHost(MemorySegment host, long bytes, String call) {
        if (!host.isNative()) {
            throw new IllegalArgumentException(call + ": host memory must be a native segment, not a heap array");
        }
        if (bytes < 0 || bytes > host.byteSize()) {
            throw new IndexOutOfBoundsException(call + ": " + bytes + " bytes requested from a host segment of "
                    + host.byteSize());
        }
    }

    /** Downcalls only throw what the Java side throws (argument errors), never checked exceptions. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    /** Looks symbols up in one library and builds downcall handles, with a clear error for a missing one. */
    public static final class Binder {
        private final SymbolLookup lookup;
        private final String library;

        public Binder(SymbolLookup lookup, String library) {
            this.lookup = lookup;
            this.library = library;
        }

        public boolean has(String symbol) {
            return lookup.find(symbol).isPresent();
        }

        public MethodHandle bind(String symbol, MemoryLayout result, MemoryLayout... args) {
            MemorySegment address = lookup.find(symbol).orElseThrow(() -> new CudaUnavailableException(
                    library + " does not export " + symbol + ": not the expected library, or a version older"
                            + " than LatentServe needs (CUDA 12 or newer)"));
            return LINKER.downcallHandle(address, FunctionDescriptor.of(result, args));
        }
    }
}

package io.latentserve.cuda.driver;

import io.latentserve.cuda.CudaBackendProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The driver bindings against {@link FakeCuda}'s stand-in libcuda: every argument and out-parameter
 * crosses the FFM boundary as it would with the real driver, and the provider's reasons can be driven
 * one by one (cuInit failing, no device, an old GPU, no cuBLAS, no fatbin).
 */
class CudaDriverFakeTest {
    static CudaDriver driver;

    @BeforeAll
    static void load() {
        assumeTrue(FakeCuda.available(), "no C compiler to build the fake CUDA libraries");
        driver = CudaDriver.load(FakeCuda.libcuda());
    }

    @BeforeEach
    void reset() {
        FakeCuda.configure(0, 1, 9, 0);
    }

    @Test
    void devicesAndVersions() {
        driver.init();
        assertEquals(12080, driver.driverVersion());
        assertEquals(1, driver.deviceGetCount());
        DeviceInfo info = driver.deviceInfo(0);
        assertEquals(new DeviceInfo(0, "Fake GPU", 9, 0, 132, 150_000_000_000L, 232448, 52428800, 2619000, 5120), info);
        assertEquals(90, info.computeCapability());
        assertEquals(new MemoryInfo(100L << 30, 141L << 30), driver.memGetInfo());
        MemorySegment ctx = driver.devicePrimaryCtxRetain(driver.deviceGet(0));
        assertEquals(0x1234, ctx.address());
        driver.ctxSetCurrent(ctx);
        driver.ctxSynchronize();
        driver.devicePrimaryCtxRelease(40);
    }

    @Test
    void failuresCarryTheDriversNamesAndStrings() {
        CudaException e = assertThrows(CudaException.class, () -> driver.deviceGet(3));
        assertEquals("cuDeviceGet failed: CUDA_ERROR_INVALID_DEVICE (101): fake error", e.getMessage());
        assertEquals(101, e.status());

        CudaException oom = assertThrows(CudaException.class, () -> driver.memAlloc(1L << 50));
        assertEquals("cuMemAlloc_v2(" + (1L << 50) + " bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory",
                oom.getMessage());

        assertEquals("cuStreamSynchronize failed: CUDA error 999",
                assertThrows(CudaException.class, () -> driver.check(999, "cuStreamSynchronize")).getMessage());
        assertEquals(Optional.of("CUDA_ERROR_NOT_FOUND"), driver.errorName(500));
        assertEquals(Optional.empty(), driver.errorName(999));
    }

    @Test
    void memoryRoundTripsThroughEveryCopy() {
        float[] values = {1f, -2f, 3.5f, 1e-3f, 42f, 0f, -7.25f, 8f};
        long bytes = 4L * values.length;
        long a = driver.memAlloc(bytes);
        long b = driver.memAlloc(bytes);
        assertEquals(0, a % 256);
        long stream = driver.streamCreate();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocateFrom(JAVA_FLOAT, values);
            driver.memcpyHtoD(a, host, bytes);
            driver.memcpyDtoD(b, a, bytes);
            MemorySegment back = arena.allocate(bytes);
            driver.memcpyDtoH(back, b, bytes);
            assertArrayEquals(values, back.toArray(JAVA_FLOAT));

            driver.memsetD32(a, Float.floatToRawIntBits(0.5f), values.length);
            driver.memcpyDtoDAsync(b, a, bytes, stream);
            driver.memcpyDtoHAsync(back, b, bytes, stream);
            driver.streamSynchronize(stream);
            assertEquals(0.5f, back.getAtIndex(JAVA_FLOAT, 7));

            driver.memsetD8(a, (byte) 0xff, bytes);
            driver.memcpyDtoH(back, a, bytes);
            assertEquals(-1, back.get(JAVA_INT, 0));
            driver.memsetD8Async(a, (byte) 0, bytes, MemorySegment.ofAddress(stream));
            driver.memsetD32Async(a, 7, 1, MemorySegment.ofAddress(stream));
            driver.memcpyDtoH(back, a, bytes);
            assertEquals(7, back.get(JAVA_INT, 0));
            assertEquals(0, back.get(JAVA_INT, 4));

            MemorySegment pinned = driver.memHostAlloc(bytes, CudaDriver.CU_MEMHOSTALLOC_PORTABLE);
            assertEquals(bytes, pinned.byteSize());
            MemorySegment.copy(host, 0, pinned, 0, bytes);
            driver.memcpyHtoDAsync(b, pinned, bytes, stream);
            driver.memcpyDtoH(back, b, bytes);
            assertArrayEquals(values, back.toArray(JAVA_FLOAT));
            driver.memFreeHost(pinned);

            assertThrows(IllegalArgumentException.class, () -> driver.memcpyHtoD(a, MemorySegment.ofArray(values), 4));
            assertThrows(IndexOutOfBoundsException.class, () -> driver.memcpyDtoH(back, a, bytes + 1));
            assertThrows(IllegalArgumentException.class, () -> driver.memAlloc(0));
        } finally {
            driver.streamDestroy(stream);
            driver.memFree(a);
            driver.memFree(b);
        }
    }

    @Test
    void eventsAndGraphs() throws Throwable {
        long stream = driver.streamCreate();
        MemorySegment start = driver.eventCreate(CudaDriver.CU_EVENT_DEFAULT);
        MemorySegment end = driver.eventCreate(CudaDriver.CU_EVENT_DEFAULT);
        driver.eventRecord(start, stream);
        driver.eventRecord(end, stream);
        driver.eventSynchronize(end);
        assertEquals(1.5f, driver.eventElapsedMillis(start, end));
        driver.eventDestroy(start);
        driver.eventDestroy(end);

        driver.streamBeginCapture(stream, CudaDriver.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        int mode = (int) FakeCuda.hook(FakeCuda.libcuda(), "fake_capture_mode", FunctionDescriptor.of(JAVA_INT)).invokeExact();
        assertEquals(CudaDriver.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL, mode);
        MemorySegment graph = driver.streamEndCapture(stream);
        MemorySegment exec = driver.graphInstantiate(graph, CudaDriver.CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH);
        driver.graphLaunch(exec, stream);
        driver.graphExecDestroy(exec);
        driver.graphDestroy(graph);
        driver.streamDestroy(stream);
    }

    @Test
    void kernelsGetTheirOneStructParameterByPointer() throws Throwable {
        MemorySegment module = driver.moduleLoadData("FAKE module image".getBytes(StandardCharsets.US_ASCII));
        MemorySegment function = driver.moduleGetFunction(module, "scale");
        CudaException missing = assertThrows(CudaException.class, () -> driver.moduleGetFunction(module, "nope"));
        assertEquals("cuModuleGetFunction(nope) failed: CUDA_ERROR_NOT_FOUND (500): named symbol not found",
                missing.getMessage());

        driver.funcSetMaxDynamicSharedMemory(function, 200_000);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(JAVA_INT, 2);
            FakeCuda.hook(FakeCuda.libcuda(), "fake_last_func_attr", FakeCuda.TAKES_POINTER).invokeExact(attr);
            assertArrayEquals(new int[] {CudaDriver.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 200_000},
                    attr.toArray(JAVA_INT));
            assertEquals(1024, driver.funcGetAttribute(function, CudaDriver.CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK));

            int n = 5;
            long in = driver.memAlloc(4L * n);
            long out = driver.memAlloc(4L * n);
            driver.memcpyHtoD(in, arena.allocateFrom(JAVA_FLOAT, 1, 2, 3, 4, 5), 4L * n);
            MemorySegment params = arena.allocate(24, 8);
            params.set(ADDRESS, 0, MemorySegment.ofAddress(out));
            params.set(ADDRESS, 8, MemorySegment.ofAddress(in));
            params.set(JAVA_INT, 16, n);
            params.set(JAVA_FLOAT, 20, 10f);
            long stream = driver.streamCreate();

            driver.launchKernel(function, 3, 2, 1, 128, 2, 1, 4096, stream, params);

            MemorySegment result = arena.allocate(JAVA_FLOAT, n);
            driver.memcpyDtoH(result, out, 4L * n);
            assertArrayEquals(new float[] {10, 20, 30, 40, 50}, result.toArray(JAVA_FLOAT));
            MemorySegment launch = arena.allocate(JAVA_LONG, 9);
            FakeCuda.hook(FakeCuda.libcuda(), "fake_last_launch", FakeCuda.TAKES_POINTER).invokeExact(launch);
            assertArrayEquals(new long[] {3, 2, 1, 128, 2, 1, 4096, stream, params.address()}, launch.toArray(JAVA_LONG));

            assertThrows(IllegalArgumentException.class, () -> driver.launchKernel(function, 1, 1, 1, 1, 1, 1, 0,
                    stream, MemorySegment.ofArray(new byte[24])));
            driver.streamDestroy(stream);
            driver.memFree(in);
            driver.memFree(out);
        }
        driver.moduleUnload(module);
    }

    // ---- the provider's reasons, step by step ----

    private static CudaBackendProvider provider(String fatbin) {
        return new CudaBackendProvider(Map.of(), Optional.of(FakeCuda.libcuda()), Optional.empty(),
                Optional.of(SearchPath.of(FakeCuda.dir().resolve("nothing-here"))), fatbin, 0);
    }

    @Test
    void cuInitFailingIsTheReason() {
        FakeCuda.configure(CudaDriver.CUDA_ERROR_NO_DEVICE, 0, 9, 0);
        String reason = provider(CudaBackendProvider.FATBIN_RESOURCE).unavailableReason().orElseThrow();
        assertTrue(reason.startsWith("cuInit failed: CUDA_ERROR_NO_DEVICE (100)"), reason);
        assertTrue(reason.contains(FakeCuda.libcuda().toString()), reason);
    }

    @Test
    void noDeviceIsTheReason() {
        FakeCuda.configure(0, 0, 9, 0);
        assertEquals("no CUDA device (cuDeviceGetCount returned 0)",
                provider(CudaBackendProvider.FATBIN_RESOURCE).unavailableReason().orElseThrow());
    }

    @Test
    void anOldGpuIsTheReason() {
        FakeCuda.configure(0, 1, 7, 5);
        String reason = provider(CudaBackendProvider.FATBIN_RESOURCE).unavailableReason().orElseThrow();
        assertTrue(reason.startsWith("GPU 0 (Fake GPU, sm_75, 132 SMs, ") && reason.endsWith(
                "has compute capability 7.5; the CUDA backend needs 8.0 or newer (Ampere, Hopper, ...)"), reason);
    }

    @Test
    void aMissingGpuOrdinalIsTheReason() {
        CudaBackendProvider second = new CudaBackendProvider(Map.of(), Optional.of(FakeCuda.libcuda()), Optional.empty(),
                Optional.of(SearchPath.of()), CudaBackendProvider.FATBIN_RESOURCE, 1);
        assertEquals("GPU 1 was asked for (-Dlatentserve.cuda.device) but there is 1 CUDA device",
                second.unavailableReason().orElseThrow());
    }

    @Test
    void noCublasIsTheReasonOnceTheGpuIsFine() {
        Map<String, String> env = Map.of();
        CudaBackendProvider cuda = new CudaBackendProvider(env, Optional.of(FakeCuda.libcuda()), Optional.empty(),
                Optional.of(SearchPath.of(FakeCuda.dir().resolve("nothing-here"))), CudaBackendProvider.FATBIN_RESOURCE, 0);
        String reason = cuda.unavailableReason().orElseThrow();
        assertTrue(reason.startsWith("no cuBLAS: libcublas.so.13 / libcublas.so.12 / libcublas.so (cuBLAS) not found;"
                + " looked in: " + FakeCuda.dir().resolve("nothing-here")), reason);
    }

    @Test
    void noFatbinIsTheReasonOnceTheLibrariesAreFine() {
        CudaBackendProvider cuda = new CudaBackendProvider(Map.of(), Optional.of(FakeCuda.libcuda()),
                Optional.of(FakeCuda.libcublas()), Optional.of(SearchPath.of()), "/io/latentserve/cuda/no-such.fatbin", 0);
        assertEquals("the CUDA kernels (/io/latentserve/cuda/no-such.fatbin) are missing from this jar: this build was"
                + " made without nvcc", cuda.unavailableReason().orElseThrow());
    }

    @Test
    void everythingInPlaceMeansAvailable() {
        // Any resource that exists stands in for the fatbin, which only a build with nvcc has.
        CudaBackendProvider cuda = new CudaBackendProvider(Map.of(), Optional.of(FakeCuda.libcuda()),
                Optional.of(FakeCuda.libcublas()), Optional.of(SearchPath.of()),
                "/META-INF/services/io.latentserve.model.backend.BackendProvider", 0);
        assertEquals(Optional.empty(), cuda.unavailableReason());
        String description = cuda.description().orElseThrow();
        assertTrue(description.startsWith("GPU 0 (Fake GPU, sm_90, 132 SMs, 143051 MiB), driver supports CUDA 12.8"),
                description);
    }
}

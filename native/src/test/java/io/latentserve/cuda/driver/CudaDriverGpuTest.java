package io.latentserve.cuda.driver;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.cublas.Cublas;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real driver calls on GPU 0: memory, copies, events, a kernel launch with a by-value struct, graphs. */
@Tag("gpu")
class CudaDriverGpuTest {
    /**
     * out[i] = in[i] * scale through dynamic shared memory, taking one struct by value, as the project's
     * kernels do. Compiled from this CUDA C with nvcc -ptx -arch=compute_80, the .version lowered to 7.0
     * so that drivers older than CUDA 13 JIT it too:
     * <pre>
     * struct ScaleParams { float* out; const float* in; int n; float scale; };
     * extern "C" __global__ void ls_test_scale(const ScaleParams p) {
     *   extern __shared__ float smem[];
     *   int i = blockIdx.x * blockDim.x + threadIdx.x;
     *   smem[threadIdx.x] = i < p.n ? p.in[i] : 0.f;
     *   __syncthreads();
     *   if (i < p.n) p.out[i] = smem[threadIdx.x] * p.scale;
     * }
     * </pre>
     */
    static final String SCALE_PTX = """
            .version 7.0
            .target sm_80
            .address_size 64

            .extern .shared .align 16 .b8 smem[];

            .visible .entry ls_test_scale(
            	.param .align 8 .b8 ls_test_scale_param_0[24]
            )
            {
            	.reg .pred 	%p<3>;
            	.reg .f32 	%f<8>;
            	.reg .b32 	%r<10>;
            	.reg .b64 	%rd<9>;

            	ld.param.f32 	%f3, [ls_test_scale_param_0+20];
            	ld.param.u32 	%r5, [ls_test_scale_param_0+16];
            	ld.param.u64 	%rd2, [ls_test_scale_param_0+8];
            	ld.param.u64 	%rd1, [ls_test_scale_param_0];
            	mov.u32 	%r6, %ntid.x;
            	mov.u32 	%r7, %ctaid.x;
            	mov.u32 	%r1, %tid.x;
            	mad.lo.s32 	%r2, %r7, %r6, %r1;
            	setp.ge.s32 	%p1, %r2, %r5;
            	mov.f32 	%f7, 0f00000000;
            	@%p1 bra 	$L__BB0_2;

            	cvta.to.global.u64 	%rd3, %rd2;
            	mul.wide.s32 	%rd4, %r2, 4;
            	add.s64 	%rd5, %rd3, %rd4;
            	ld.global.f32 	%f7, [%rd5];

            $L__BB0_2:
            	shl.b32 	%r8, %r1, 2;
            	mov.u32 	%r9, smem;
            	add.s32 	%r4, %r9, %r8;
            	st.shared.f32 	[%r4], %f7;
            	bar.sync 	0;
            	@%p1 bra 	$L__BB0_4;

            	ld.shared.f32 	%f5, [%r4];
            	mul.f32 	%f6, %f3, %f5;
            	cvta.to.global.u64 	%rd6, %rd1;
            	mul.wide.s32 	%rd7, %r2, 4;
            	add.s64 	%rd8, %rd6, %rd7;
            	st.global.f32 	[%rd8], %f6;

            $L__BB0_4:
            	ret;
            }
            """;

    /** The Java mirror of ScaleParams: natural alignment, 24 bytes. */
    static final StructLayout SCALE_PARAMS = MemoryLayout.structLayout(
            ADDRESS.withName("out"), ADDRESS.withName("in"), JAVA_INT.withName("n"), JAVA_FLOAT.withName("scale"));

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
    void describesTheDevice() {
        assertTrue(driver.deviceGetCount() >= 1);
        assertTrue(driver.driverVersion() >= 12000, "driver version " + driver.driverVersion());
        DeviceInfo info = driver.deviceInfo(0);
        assertFalse(info.name().isBlank());
        assertTrue(info.atLeast(8, 0), info.toString());
        assertTrue(info.multiprocessors() > 0 && info.totalMemory() > (1L << 30), info.toString());
        assertTrue(info.sharedMemoryPerBlockOptin() >= 48 * 1024, info.toString());
        assertTrue(info.l2CacheBytes() > 0, info.toString());
        MemoryInfo mem = driver.memGetInfo();
        assertTrue(mem.free() > 0 && mem.free() <= mem.total(), mem.toString());
        System.out.println(info + ", driver " + driver.driverVersion() + ", " + mem);
    }

    @Test
    void copiesRoundTripThroughDeviceMemory() {
        float[] values = new float[10_000];
        Random r = new Random(1);
        for (int i = 0; i < values.length; i++) {
            values[i] = r.nextFloat() * 2 - 1;
        }
        long a = gpu.uploadF32(values);
        long b = driver.memAlloc(4L * values.length);
        driver.memcpyDtoD(b, a, 4L * values.length);
        assertArrayEquals(values, gpu.downloadF32(b, values.length));

        driver.memsetD32(b, Float.floatToRawIntBits(1.5f), values.length);
        float[] ones = gpu.downloadF32(b, values.length);
        for (float f : ones) {
            assertEquals(1.5f, f);
        }
        driver.memsetD8(b, (byte) 0, 4L * values.length);
        assertEquals(0f, gpu.downloadF32(b, values.length)[values.length - 1]);
        driver.memFree(a);
        driver.memFree(b);
    }

    @Test
    void pinnedMemoryCopiesAsynchronouslyOnAStream() {
        int n = 1 << 16;
        long stream = driver.streamCreate();
        MemorySegment pinned = driver.memHostAlloc(4L * n, CudaDriver.CU_MEMHOSTALLOC_PORTABLE);
        long d = driver.memAlloc(4L * n);
        try {
            for (int i = 0; i < n; i++) {
                pinned.setAtIndex(JAVA_FLOAT, i, i * 0.25f);
            }
            driver.memcpyHtoDAsync(d, pinned, 4L * n, stream);
            driver.memsetD32Async(d, Float.floatToRawIntBits(7f), 1, MemorySegment.ofAddress(stream));
            driver.streamSynchronize(stream);
            pinned.fill((byte) 0); // only now: the pinned source must stay untouched until the stream passed the copy
            driver.memcpyDtoHAsync(pinned, d, 4L * n, stream);
            driver.streamSynchronize(stream);
            assertEquals(7f, pinned.getAtIndex(JAVA_FLOAT, 0));
            assertEquals((n - 1) * 0.25f, pinned.getAtIndex(JAVA_FLOAT, n - 1));
        } finally {
            driver.memFree(d);
            driver.memFreeHost(pinned);
            driver.streamDestroy(stream);
        }
    }

    @Test
    void eventsMeasureElapsedTime() {
        long stream = driver.streamCreate();
        MemorySegment start = driver.eventCreate(CudaDriver.CU_EVENT_DEFAULT);
        MemorySegment end = driver.eventCreate(CudaDriver.CU_EVENT_DEFAULT);
        long d = driver.memAlloc(64L << 20);
        driver.eventRecord(start, stream);
        driver.memsetD8Async(d, (byte) 1, 64L << 20, MemorySegment.ofAddress(stream));
        driver.eventRecord(end, stream);
        driver.eventSynchronize(end);
        float ms = driver.eventElapsedMillis(start, end);
        assertTrue(ms >= 0 && ms < 10_000, "elapsed " + ms);
        driver.memFree(d);
        driver.eventDestroy(start);
        driver.eventDestroy(end);
        driver.streamDestroy(stream);
    }

    @Test
    void launchesAKernelWithOneStructParameterAndCapturesItInAGraph() {
        int n = 1000;
        float[] input = new float[n];
        for (int i = 0; i < n; i++) {
            input[i] = i - 500;
        }
        MemorySegment module = driver.moduleLoadData((SCALE_PTX + "\0").getBytes(StandardCharsets.US_ASCII));
        MemorySegment function = driver.moduleGetFunction(module, "ls_test_scale");
        driver.funcSetMaxDynamicSharedMemory(function, 64 * 1024);
        assertTrue(driver.funcGetAttribute(function, CudaDriver.CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK) >= 256);
        long in = gpu.uploadF32(input);
        long out = driver.memAlloc(4L * n);
        long copy = driver.memAlloc(4L * n);
        long stream = driver.streamCreate();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(SCALE_PARAMS);
            params.set(ADDRESS, 0, MemorySegment.ofAddress(out));
            params.set(ADDRESS, 8, MemorySegment.ofAddress(in));
            params.set(JAVA_INT, 16, n);
            params.set(JAVA_FLOAT, 20, 3f);
            int blocks = (n + 255) / 256;

            driver.launchKernel(function, blocks, 1, 1, 256, 1, 1, 256 * 4, stream, params);
            driver.streamSynchronize(stream);
            float[] result = gpu.downloadF32(out, n);
            for (int i = 0; i < n; i++) {
                assertEquals(input[i] * 3f, result[i], "element " + i);
            }

            driver.streamBeginCapture(stream, CudaDriver.CU_STREAM_CAPTURE_MODE_GLOBAL);
            params.set(JAVA_FLOAT, 20, 2f);
            driver.launchKernel(function, blocks, 1, 1, 256, 1, 1, 256 * 4, stream, params);
            driver.memcpyDtoDAsync(copy, out, 4L * n, stream);
            MemorySegment graph = driver.streamEndCapture(stream);
            params.set(JAVA_FLOAT, 20, 100f); // the graph keeps the parameters it captured
            MemorySegment exec = driver.graphInstantiate(graph, 0);
            driver.memsetD32(copy, 0, n);
            driver.graphLaunch(exec, stream);
            driver.graphLaunch(exec, stream);
            driver.streamSynchronize(stream);
            float[] replayed = gpu.downloadF32(copy, n);
            for (int i = 0; i < n; i++) {
                assertEquals(input[i] * 2f, replayed[i], "graph element " + i);
            }
            driver.graphExecDestroy(exec);
            driver.graphDestroy(graph);
        } finally {
            driver.memFree(in);
            driver.memFree(out);
            driver.memFree(copy);
            driver.streamDestroy(stream);
            driver.moduleUnload(module);
        }
    }

    @Test
    void errorsNameTheCallAndTheCudaError() {
        MemorySegment module = driver.moduleLoadData((SCALE_PTX + "\0").getBytes(StandardCharsets.US_ASCII));
        try {
            CudaException e = assertThrows(CudaException.class, () -> driver.moduleGetFunction(module, "no_such_kernel"));
            assertEquals("CUDA_ERROR_NOT_FOUND", e.errorName());
            assertTrue(e.getMessage().startsWith("cuModuleGetFunction(no_such_kernel) failed: CUDA_ERROR_NOT_FOUND (500)"),
                    e.getMessage());
        } finally {
            driver.moduleUnload(module);
        }
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", driver.errorName(2).orElseThrow());
        assertTrue(driver.errorName(987654).isEmpty());
    }

    @Test
    void aContextOpensItsArenasStreamAndCublasAndClosesThem() {
        Cublas cublas = Cublas.tryLoad().orElseThrow();
        try (CudaContext ctx = CudaContext.open(driver, cublas, 0, 64L << 20, 32L << 20, 16L << 20)) {
            assertEquals(64L << 20, ctx.weights().capacity());
            assertEquals(32L << 20, ctx.kvCache().capacity());
            assertEquals(16L << 20, ctx.activations().capacity());
            long w = ctx.weights().allocate(1000);
            driver.memsetD32Async(w, 0, 250, ctx.stream());
            ctx.synchronize();
            assertTrue(cublas.version(ctx.cublasHandle()) >= 12_00_00, "cuBLAS " + cublas.version(ctx.cublasHandle()));
            System.out.println(ctx);
        }
        driver.ctxSetCurrent(gpu.context);
    }
}

package io.latentserve.cuda.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * For the GPU-tagged tests: the real driver, GPU 0's primary context made current, and host/device copy
 * helpers for f32 and bf16 arrays. Fails (rather than skipping) without a GPU: those tests are only run
 * where one is expected.
 */
public final class GpuFixture implements AutoCloseable {
    public final CudaDriver driver;
    public final int device;
    public final MemorySegment context;

    private GpuFixture(CudaDriver driver, int device, MemorySegment context) {
        this.driver = driver;
        this.device = device;
        this.context = context;
    }

    public static GpuFixture open() {
        CudaDriver driver = CudaDriver.tryLoad().orElseThrow();
        driver.init();
        int device = driver.deviceGet(0);
        MemorySegment context = driver.devicePrimaryCtxRetain(device);
        driver.ctxSetCurrent(context);
        return new GpuFixture(driver, device, context);
    }

    public long uploadF32(float[] values) {
        long d = driver.memAlloc(Math.max(4L, 4L * values.length));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocateFrom(JAVA_FLOAT, values);
            driver.memcpyHtoD(d, host, host.byteSize());
        }
        return d;
    }

    public long uploadBf16(float[] values) {
        long d = driver.memAlloc(Math.max(2L, 2L * values.length));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_SHORT, values.length);
            for (int i = 0; i < values.length; i++) {
                host.setAtIndex(JAVA_SHORT, i, toBf16(values[i]));
            }
            driver.memcpyHtoD(d, host, host.byteSize());
        }
        return d;
    }

    public float[] downloadF32(long src, int count) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_FLOAT, count);
            driver.memcpyDtoH(host, src, host.byteSize());
            return host.toArray(JAVA_FLOAT);
        }
    }

    public float[] downloadBf16(long src, int count) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_SHORT, count);
            driver.memcpyDtoH(host, src, host.byteSize());
            float[] out = new float[count];
            for (int i = 0; i < count; i++) {
                out[i] = fromBf16(host.getAtIndex(JAVA_SHORT, i));
            }
            return out;
        }
    }

    /** Round to nearest even, as the CPU backend and the GPU's conversion instructions do (no NaNs here). */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    public static float fromBf16(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    public static float roundBf16(float f) {
        return fromBf16(toBf16(f));
    }

    @Override
    public void close() {
        driver.ctxSynchronize();
        driver.devicePrimaryCtxRelease(device);
    }
}

package io.latentserve.server.cli;

import io.latentserve.cuda.CudaBackendProvider;
import io.latentserve.model.backend.MatmulPrecision;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class BenchCommandTest {

    @Test
    void deviceCudaWithoutAModelChoiceIsTheGpuSuite() {
        assertTrue(BenchCommand.isDeviceSuite(new String[]{"bench", "--device", "cuda"}));
        assertTrue(BenchCommand.isDeviceSuite(new String[]{"bench", "--batches", "1,2", "--device", "cuda"}));
        assertFalse(BenchCommand.isDeviceSuite(new String[]{"bench", "--device", "cuda", "--config", "v2-lite"}));
        assertFalse(BenchCommand.isDeviceSuite(new String[]{"bench", "--device", "cpu"}));
        assertFalse(BenchCommand.isDeviceSuite(new String[]{"bench", "--device"}));
    }

    @Test
    void gpuSuiteRejectsUnknownOptionsWithItsUsage() {
        var e = assertThrows(Args.UsageException.class, () -> BenchCommand.run(
                new String[]{"bench", "--device", "cuda", "--bogus", "1"}, System.out, System.err));
        assertTrue(e.getMessage().contains("unknown option --bogus"), e.getMessage());
        assertTrue(e.getMessage().contains("--batches"), e.getMessage());
    }

    @Test
    void kvCacheDtypeIsAnOptionOfBothBenchmarks() {
        var suite = io.latentserve.cuda.bench.DeviceBenchOptions.parse(new String[]{"--kv-cache-dtype", "f32"});
        assertEquals(io.latentserve.model.backend.KvCacheDtype.F32, suite.kvCacheDtype());
        assertEquals(io.latentserve.model.backend.KvCacheDtype.BF16,
                io.latentserve.cuda.bench.DeviceBenchOptions.defaults().kvCacheDtype(),
                "the bound's cache by default");
        var e = assertThrows(Args.UsageException.class, () -> BenchCommand.run(
                new String[]{"bench", "--device", "cuda", "--kv-cache-dtype", "int4"}, System.out, System.err));
        assertTrue(e.getMessage().contains("int4") && e.getMessage().contains("bf16"), e.getMessage());
        e = assertThrows(Args.UsageException.class, () -> BenchCommand.run(
                new String[]{"bench", "--device", "cpu", "--kv-cache-dtype", "half"}, System.out, System.err));
        assertTrue(e.getMessage().contains("--kv-cache-dtype") && e.getMessage().contains("half"), e.getMessage());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, BenchCommand.run(new String[]{"bench", "--device", "cpu", "--kv-cache-dtype", "bf16",
                "--prompt-tokens", "8", "--decode-tokens", "3", "--rounds", "1"},
                new PrintStream(out, true, StandardCharsets.UTF_8), System.err));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("bf16 KV cache"), out.toString());
    }

    @Test
    void matmulPrecisionIsAnOptionOfBothBenchmarks() {
        var suite = io.latentserve.cuda.bench.DeviceBenchOptions.parse(new String[]{"--matmul-precision", "medium"});
        assertEquals(MatmulPrecision.MEDIUM, suite.matmulPrecision());
        assertEquals(MatmulPrecision.HIGH, io.latentserve.cuda.bench.DeviceBenchOptions.defaults().matmulPrecision());
        assertTrue(io.latentserve.cuda.bench.DeviceBenchOptions.USAGE.contains("--matmul-precision high|medium"));
        assertTrue(BenchCommand.USAGE.contains("--matmul-precision"));
        var e = assertThrows(Args.UsageException.class, () -> BenchCommand.run(
                new String[]{"bench", "--device", "cuda", "--matmul-precision", "fp8"}, System.out, System.err));
        assertTrue(e.getMessage().contains("'fp8'") && e.getMessage().contains("medium"), e.getMessage());
        e = assertThrows(Args.UsageException.class, () -> BenchCommand.run(
                new String[]{"bench", "--device", "cpu", "--matmul-precision", "highest"}, System.out, System.err));
        assertTrue(e.getMessage().contains("--matmul-precision") && e.getMessage().contains("'highest'"),
                e.getMessage());
    }

    @Test
    void gpuSuiteWithoutAGpuSaysWhyAndFails() {
        // on a machine with a usable GPU this would run the whole suite: it is for the machines without one
        assumeTrue(new CudaBackendProvider().unavailableReason().isPresent());
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = BenchCommand.run(new String[]{"bench", "--device", "cuda", "--steps", "1"}, System.out,
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(1, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("the CUDA backend is unavailable"), err.toString());
    }
}

package io.latentserve.cuda.bench;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device benchmark's harness end to end at toy sizes: every row measured, the report written. */
@Tag("gpu")
class DeviceBenchGpuTest {

    @Test
    void smokeRunMeasuresEveryRowAndWritesTheReport() throws Exception {
        Path json = Files.createTempFile("device-bench", ".json");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        List<BenchRow> rows = new DeviceBench(DeviceBenchOptions.parse(new String[]{"--shapes", "tiny",
                "--layers", "2", "--batches", "1,3", "--contexts", "70", "--prefill-tokens", "20", "--steps", "2",
                "--activation-gib", "1", "--json", json.toString()}), new PrintStream(buf, true, StandardCharsets.UTF_8))
                .run();
        String printed = buf.toString(StandardCharsets.UTF_8);
        assertEquals(2 + 2 + 2, rows.size(), printed);   // two ceilings, two decode shapes, prefill high + medium
        assertEquals("1 x 20 tokens, high", rows.get(4).shape(), printed);
        assertEquals("1 x 20 tokens, medium", rows.get(5).shape(), printed);
        assertTrue(printed.contains("where the time goes, prefill 20 medium"), printed);
        assertTrue(printed.contains("matmul precision high (decode; prefill at both)"), printed);
        assertTrue(printed.contains("where the time goes, decode B 3, context 70"), printed);
        assertTrue(printed.contains("GPU time per kernel, decode B 3, context 70") && printed.contains("| ls_rmsnorm"),
                printed);
        for (BenchRow r : rows) {
            assertTrue(r.value() > 0 && Double.isFinite(r.value()), r.toString());
        }
        assertTrue(printed.contains("| decode step (model forward)"), printed);
        assertTrue(printed.contains("KV cache") && printed.contains("(bf16, "), "a bf16 cache by default: " + printed);
        assertTrue(printed.contains("bf16 cache here"), printed);
        String report = Files.readString(json);
        assertTrue(report.startsWith("{\"gpu\":") && report.contains("\"prefill (model forward)\"")
                && report.contains("\"profiles\":[{"), report);
    }

    @Test
    void smokeRunWithCudaGraphs() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        List<BenchRow> rows = new DeviceBench(DeviceBenchOptions.parse(new String[]{"--shapes", "tiny",
                "--layers", "2", "--batches", "2", "--contexts", "40", "--prefill-tokens", "0", "--steps", "3",
                "--activation-gib", "1", "--graphs", "true", "--kv-cache-dtype", "f32"}),
                new PrintStream(buf, true, StandardCharsets.UTF_8)).run();
        String printed = buf.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("(f32, ") && printed.contains("f32 cache here"), printed);
        assertEquals(2 + 1, rows.size(), printed);
        assertEquals("decode step (forward, CUDA graphs)", rows.get(2).name(), printed);
        assertTrue(rows.get(2).value() > 0 && Double.isFinite(rows.get(2).value()), printed);
    }
}

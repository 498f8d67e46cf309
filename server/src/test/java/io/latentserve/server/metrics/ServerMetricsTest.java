package io.latentserve.server.metrics;

import io.latentserve.model.LoadedModel;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.random.DemoModel;
import io.latentserve.server.engine.Engine;
import io.latentserve.server.engine.EngineConfig;
import io.latentserve.server.engine.GenerationOutput;
import io.latentserve.server.engine.GenerationRequest;
import io.latentserve.server.engine.RequestHandle;
import io.latentserve.server.engine.sample.SamplingParams;
import io.latentserve.server.engine.sample.StopConditions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** After a known workload the exposition holds exact counts, and promtool accepts its format. */
class ServerMetricsTest {

    @Test
    void countsAKnownWorkloadExactly(@TempDir Path cache) throws Exception {
        try (CpuBackend backend = new CpuBackend(2);
             LoadedModel m = LoadedModel.open(DemoModel.ensure(cache), backend)) {
            ServerMetrics metrics = new ServerMetrics("demo");
            try (Engine engine = new Engine(m.model(), m.tokenizer(), new EngineConfig(4, 512, 16, 32, 1024, 8),
                    metrics)) {
                metrics.bindEngine(engine);
                RequestHandle a = engine.submit(request("a", 10, 5));
                RequestHandle b = engine.submit(request("b", 20, 7));
                drain(a);
                drain(b);
                for (int i = 0; i < 100 && engine.stats().running() > 0; i++) {
                    Thread.sleep(20);
                }
                Thread.sleep(100);
                String text = metrics.scrape();
                assertEquals(30.0, value(text, "latentserve_prompt_tokens_total"));
                assertEquals(12.0, value(text, "latentserve_generation_tokens_total"));
                assertEquals(2.0, value(text, "latentserve_request_success_total", "finished_reason=\"length\""));
                assertEquals(0.0, value(text, "latentserve_request_success_total", "finished_reason=\"abort\""));
                assertEquals(2.0, value(text, "latentserve_e2e_request_latency_seconds_count"));
                assertEquals(2.0, value(text, "latentserve_time_to_first_token_seconds_count"));
                assertEquals(10.0, value(text, "latentserve_inter_token_latency_seconds_count"));
                assertEquals(12.0, value(text, "latentserve_request_generation_tokens_sum"));
                assertEquals(0.0, value(text, "latentserve_num_requests_running"));
                assertEquals(512.0, value(text, "latentserve_kv_cache_capacity_tokens"));
                assertEquals(0.0, value(text, "latentserve_kv_cache_usage_perc"));
                assertTrue(text.contains("jvm_memory_used_bytes"), "JVM metrics are exported");
                assertTrue(text.contains("process_cpu_usage"), "process metrics are exported");
                promtoolAccepts(text, cache);
            }
        }
    }

    private static GenerationRequest request(String id, int promptLength, int maxTokens) {
        int[] prompt = new java.util.SplittableRandom(promptLength).ints(promptLength, 0, 256).toArray();
        return new GenerationRequest(id, prompt, SamplingParams.greedy(),
                StopConditions.lengthOnly(maxTokens, promptLength, 1024));
    }

    private static void drain(RequestHandle h) throws InterruptedException {
        for (GenerationOutput out = h.next(60, TimeUnit.SECONDS); ; out = h.next(60, TimeUnit.SECONDS)) {
            assertNotNull(out, "request timed out");
            if (out.finished()) {
                return;
            }
        }
    }

    /** The value of the first sample of `name` whose labels contain `labelPart` and model_name="demo". */
    static double value(String text, String name, String... labelPart) {
        Pattern p = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE);
        Matcher m = p.matcher(text);
        while (m.find()) {
            boolean all = m.group(1).contains("model_name=\"demo\"");
            for (String part : labelPart) {
                all &= m.group(1).contains(part);
            }
            if (all) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no sample " + name + " " + String.join(",", labelPart) + " in:\n" + text);
    }

    /** Prometheus' own parser (Debian's prometheus package, installed by tools/test-setup.sh). */
    static void promtoolAccepts(String exposition, Path dir) throws IOException, InterruptedException {
        Path promtool = Path.of("/usr/bin/promtool");
        assertTrue(Files.isExecutable(promtool), "promtool is missing: run ./latentserve test (it installs "
                + "Debian's prometheus package) or apt-get install prometheus");
        Path file = dir.resolve("metrics.txt");
        Files.writeString(file, exposition);
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectInput(file.toFile())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool hung");
        // promtool exits non-zero for a format error ("error while linting: ...") and for lint findings.
        // Format errors fail; lint findings fail for our own metrics, not for Micrometer's JVM/process names.
        assertTrue(!out.contains("error while linting"), "promtool could not parse the exposition: " + out);
        for (String line : out.lines().toList()) {
            assertTrue(line.isBlank() || !line.startsWith("latentserve_"), "promtool: " + line);
        }
    }
}

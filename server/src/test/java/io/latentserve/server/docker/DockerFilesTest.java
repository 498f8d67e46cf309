package io.latentserve.server.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.latentserve.model.LoadedModel;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.random.DemoModel;
import io.latentserve.server.engine.Engine;
import io.latentserve.server.engine.EngineConfig;
import io.latentserve.server.metrics.ServerMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No Docker engine runs on our machines, so the container files are checked statically: everything they
 * copy, mount or scrape exists, the ports agree, and the dashboard only queries metrics the server exports.
 */
class DockerFilesTest {
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).resolve("..").normalize();
    private static final Path DOCKER = ROOT.resolve("docker");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @Test
    void dockerfileCopiesWhatExistsAndRunsTheBuiltJar() throws IOException {
        List<String> lines = Files.readAllLines(DOCKER.resolve("Dockerfile"));
        for (String line : lines) {
            if (line.startsWith("COPY ") && !line.contains("--from=")) {
                String[] parts = line.substring(5).trim().split("\\s+");
                for (int i = 0; i < parts.length - 1; i++) {
                    assertTrue(Files.exists(ROOT.resolve(parts[i])), "Dockerfile copies missing " + parts[i]);
                }
            }
        }
        String text = String.join("\n", lines);
        assertTrue(text.contains("server/target/latentserve.jar"), "copies the jar the server module builds");
        String serverPom = Files.readString(ROOT.resolve("server/pom.xml"));
        assertTrue(serverPom.contains("<finalName>latentserve</finalName>"), "server jar is named latentserve.jar");
        assertTrue(text.contains("EXPOSE 8000"));
        assertTrue(text.contains("jdk.incubator.vector"), "the jlinked runtime has the Vector API");
        assertTrue(text.contains("\"serve\""), "the image serves by default");
    }

    @Test
    void composeStartsTheServerWithPrometheusScrapingIt() throws IOException {
        JsonNode compose = YAML.readTree(DOCKER.resolve("compose.yaml").toFile());
        JsonNode services = compose.get("services");
        JsonNode server = services.get("latentserve");
        assertTrue(Files.isRegularFile(DOCKER.resolve(server.get("build").get("context").asText())
                .resolve(server.get("build").get("dockerfile").asText())), "compose builds docker/Dockerfile");
        assertEquals("8000:8000", server.get("ports").get(0).asText());
        for (String service : new String[]{"prometheus", "grafana"}) {
            for (JsonNode volume : services.get(service).get("volumes")) {
                String source = volume.asText().split(":")[0];
                assertTrue(Files.exists(DOCKER.resolve(source)), service + " mounts missing " + source);
            }
        }
        JsonNode prometheus = YAML.readTree(DOCKER.resolve("prometheus.yml").toFile());
        JsonNode job = prometheus.get("scrape_configs").get(0);
        assertEquals("/metrics", job.get("metrics_path").asText());
        assertEquals("latentserve:8000", job.get("static_configs").get(0).get("targets").get(0).asText());
    }

    @Test
    void dashboardQueriesOnlyExportedMetrics(@TempDir Path cache) throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(DOCKER.resolve("grafana/dashboards/latentserve.json").toFile());
        List<String> names = new ArrayList<>();
        Pattern metric = Pattern.compile("latentserve_[a-z0-9_]+");
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                Matcher m = metric.matcher(target.get("expr").asText());
                while (m.find()) {
                    names.add(m.group());
                }
            }
        }
        assertTrue(names.size() >= 10, "the dashboard covers the main metrics");
        try (CpuBackend backend = new CpuBackend(1);
             LoadedModel m = LoadedModel.open(DemoModel.ensure(cache), backend);
             Engine engine = new Engine(m.model(), m.tokenizer(), new EngineConfig(1, 64, 16, 4, 64, 1), null)) {
            ServerMetrics metrics = new ServerMetrics("demo");
            metrics.bindEngine(engine);
            String exposition = metrics.scrape();
            for (String name : names) {
                assertTrue(Pattern.compile("^" + name + "[{ ]", Pattern.MULTILINE).matcher(exposition).find(),
                        "dashboard queries " + name + ", which /metrics does not export");
            }
        }
    }
}

package io.latentserve.server.api;

import io.latentserve.model.backend.BackendOptions;
import io.latentserve.server.ServeCommand;
import io.latentserve.server.cli.Args;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `serve --cuda-graphs on|off`: parsed (the property when absent), refused when neither, documented with vLLM's
 * default, logged at startup, and ignored by the CPU backend (which has no graphs: it serves the same).
 */
class CudaGraphsServeTest {
    private static final String CHAT = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":4,"
            + "\"temperature\":0}";

    @Test
    void theOptionParsesAndFallsBackToTheProperty() {
        assertTrue(ServeCommand.cudaGraphs("on"));
        assertFalse(ServeCommand.cudaGraphs("off"));
        String saved = System.getProperty(BackendOptions.GRAPHS_PROPERTY);
        try {
            System.clearProperty(BackendOptions.GRAPHS_PROPERTY);
            assertFalse(ServeCommand.cudaGraphs(null), "off unless asked");
            System.setProperty(BackendOptions.GRAPHS_PROPERTY, "true");
            assertTrue(ServeCommand.cudaGraphs(null), "the property when no option");
            assertFalse(ServeCommand.cudaGraphs("off"), "the option over the property");
        } finally {
            if (saved == null) {
                System.clearProperty(BackendOptions.GRAPHS_PROPERTY);
            } else {
                System.setProperty(BackendOptions.GRAPHS_PROPERTY, saved);
            }
        }
    }

    @Test
    void aValueOtherThanOnOrOffIsAUsageError() {
        var out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        var e = assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[]{"serve", "--model",
                TestServer.demoModel().toString(), "--device", "cpu", "--port", "0", "--cuda-graphs", "true"}, out, out));
        assertTrue(e.getMessage().contains("--cuda-graphs must be on or off") && e.getMessage().contains("'true'"),
                e.getMessage());
    }

    @Test
    void theHelpSaysTheDefaultAndVllmsAndThatTheCpuIgnoresIt() {
        String usage = ServeCommand.USAGE;
        assertTrue(usage.contains("[--cuda-graphs on|off]"), usage);
        assertTrue(usage.contains("off (default") && usage.contains("--enforce-eager")
                && usage.contains("-Dlatentserve.cuda.graphs=true")
                && usage.contains("CPU backend has no graphs and ignores it"), usage);
    }

    @Test
    void theCpuBackendIgnoresItAndTheLogSaysSo() {
        String plainText;
        try (TestServer plain = TestServer.demo()) {
            assertTrue(plain.startupLog.contains("CUDA graphs off" + System.lineSeparator()), plain.startupLog);
            plainText = plain.http.post("/v1/chat/completions", CHAT).json().at("/choices/0/message/content").asText();
        }
        try (TestServer asked = TestServer.demo("--cuda-graphs", "on")) {
            assertTrue(asked.startupLog.contains("CUDA graphs off (asked for, but only the CUDA backend has them)"),
                    asked.startupLog);
            HttpJson.Reply reply = asked.http.post("/v1/chat/completions", CHAT);
            assertEquals(200, reply.status(), reply.text());
            assertEquals(plainText, reply.json().at("/choices/0/message/content").asText(), "the same greedy text");
        }
    }
}

package io.latentserve.server.api;

import io.latentserve.model.backend.MatmulPrecision;
import io.latentserve.server.ServeCommand;
import io.latentserve.server.cli.Args;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `serve --matmul-precision`: parsed, refused when unknown, documented, and ignored by the CPU backend. */
class MatmulPrecisionServeTest {

    @Test
    void anUnknownPrecisionIsAUsageErrorNamingTheAcceptedOnes() {
        var out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        var e = assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[]{"serve", "--model",
                TestServer.demoModel().toString(), "--device", "cpu", "--port", "0", "--matmul-precision", "low"},
                out, out));
        assertTrue(e.getMessage().contains("--matmul-precision") && e.getMessage().contains("'low'")
                && e.getMessage().contains("high") && e.getMessage().contains("medium"), e.getMessage());
    }

    @Test
    void theOptionParsesAndFallsBackToTheProperty() {
        assertEquals(MatmulPrecision.MEDIUM, ServeCommand.matmulPrecision("medium"));
        assertEquals(MatmulPrecision.HIGH, ServeCommand.matmulPrecision("HIGH"));
        String saved = System.getProperty(MatmulPrecision.PROPERTY);
        try {
            System.clearProperty(MatmulPrecision.PROPERTY);
            assertEquals(MatmulPrecision.HIGH, ServeCommand.matmulPrecision(null), "high unless asked");
            System.setProperty(MatmulPrecision.PROPERTY, "medium");
            assertEquals(MatmulPrecision.MEDIUM, ServeCommand.matmulPrecision(null), "the property when no option");
            assertEquals(MatmulPrecision.HIGH, ServeCommand.matmulPrecision("high"), "the option over the property");
        } finally {
            if (saved == null) {
                System.clearProperty(MatmulPrecision.PROPERTY);
            } else {
                System.setProperty(MatmulPrecision.PROPERTY, saved);
            }
        }
    }

    @Test
    void theHelpSaysWhatMediumTradesAndThatTheCpuIgnoresIt() {
        String usage = ServeCommand.USAGE;
        assertTrue(usage.contains("[--matmul-precision high|medium]"), usage);
        assertTrue(usage.contains("3 significant") && usage.contains("2-3x less tensor-core work")
                && usage.contains("CPU backend computes in f32 and ignores it"), usage);
    }

    @Test
    void theCpuBackendServesWithMedium() {
        try (TestServer server = TestServer.demo("--matmul-precision", "medium")) {
            HttpJson.Reply reply = server.http.post("/v1/chat/completions",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":4,\"temperature\":0}");
            assertEquals(200, reply.status(), reply.text());
            assertEquals(4, reply.json().at("/usage/completion_tokens").asInt());
        }
    }
}

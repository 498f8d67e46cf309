package io.latentserve.server.api;

import io.latentserve.server.ServeCommand;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `serve --async-scheduling`: off unless asked, passed to the engine, logged (and logged as ineffective on the CPU). */
class AsyncSchedulingServeTest {
    private static final String CHAT = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":4}";

    @Test
    void theFlagReachesTheEngineAndTheLogSaysWhetherItIsOn() {
        assertTrue(ServeCommand.USAGE.contains("--async-scheduling"), "documented in the help text");
        try (TestServer plain = TestServer.demo()) {
            assertFalse(plain.running.engine().config().asyncScheduling(), "off unless asked, as vLLM");
            assertTrue(plain.startupLog.contains("async scheduling off"), plain.startupLog);
        }
        try (TestServer asked = TestServer.demo("--async-scheduling")) {
            assertTrue(asked.running.engine().config().asyncScheduling());
            assertFalse(asked.running.engine().asyncScheduling(), "the CPU backend samples nothing on a device");
            assertTrue(asked.startupLog.contains("async scheduling off (asked for, but the backend does not sample"),
                    asked.startupLog);
            assertEquals(200, asked.http.post("/v1/chat/completions", CHAT).status());
        }
    }
}

package io.latentserve.server.api;

import io.latentserve.server.engine.EngineStats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A client that goes away mid-stream cancels its request: its KV blocks are freed long before max_tokens. */
class DisconnectTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.demo();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void closingTheStreamCancelsTheRequest() throws Exception {
        server.awaitIdle();
        long generatedBefore = server.running.engine().stats().generationTokens();
        String chat = "{\"messages\": [{\"role\": \"user\", \"content\": \"Talk for a long time\"}], \"n\": 2, "
                + "\"max_tokens\": 1900, \"ignore_eos\": true, \"stream\": true}";
        String completion = "{\"prompt\": \"Go on and on\", \"max_tokens\": 1900, \"ignore_eos\": true, \"stream\": true}";
        try (RawSse a = new RawSse(server.running.port(), "/v1/chat/completions", chat);
             RawSse b = new RawSse(server.running.port(), "/v1/completions", completion)) {
            assertEquals("HTTP/1.1 200 OK", a.statusLine());
            a.awaitEvent(6);
            b.awaitEvent(3);
            assertTrue(server.running.engine().stats().kvUsage() > 0, "the streams hold KV blocks");
        }
        EngineStats idle = server.awaitIdle();
        assertEquals(0, idle.running());
        assertEquals(0, idle.waiting());
        assertEquals(0.0, idle.kvUsage());
        assertEquals(idle.totalBlocks(), idle.freeBlocks(), "every block is free (or evictable prefix cache)");
        assertTrue(idle.finishedByReason().getOrDefault("abort", 0L) >= 3, idle.finishedByReason().toString());
        long generated = idle.generationTokens() - generatedBefore;
        assertTrue(generated < 3 * 1900, "cancelled early, not run to max_tokens: " + generated + " tokens");
    }
}

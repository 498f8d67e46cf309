package io.latentserve.server.api;

import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.server.ServeCommand;
import io.latentserve.server.cli.Args;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `serve --kv-cache-dtype`: parsed, refused when unknown, twice the blocks in bf16, and the engine serves with it. */
class KvCacheDtypeServeTest {
    private static final String CHAT = "{\"messages\":[{\"role\":\"user\",\"content\":\"Write a Python function that "
            + "reverses a string.\"}],\"max_tokens\":8,\"temperature\":0}";

    @Test
    void anUnknownDtypeIsAUsageErrorNamingTheAcceptedOnes() {
        var out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        var e = assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[]{"serve", "--model",
                TestServer.demoModel().toString(), "--device", "cpu", "--port", "0", "--kv-cache-dtype", "fp8"}, out, out));
        assertTrue(e.getMessage().contains("--kv-cache-dtype") && e.getMessage().contains("fp8")
                && e.getMessage().contains("bf16") && e.getMessage().contains("f32"), e.getMessage());
        assertTrue(ServeCommand.USAGE.contains("--kv-cache-dtype"), "documented in the help text");
    }

    @Test
    void bf16HoldsTwiceTheBlocksAndServesTheSameGreedyReply() {
        String f32Reply;
        int f32Blocks;
        try (TestServer f32 = TestServer.demo()) {
            assertEquals(KvCacheDtype.F32, f32.running.engine().config().kvCacheDtype(), "f32 unless asked");
            f32Blocks = f32.running.engine().config().numBlocks();
            f32Reply = content(f32.http.post("/v1/chat/completions", CHAT));
        }
        try (TestServer bf16 = TestServer.demo("--kv-cache-dtype", "bfloat16")) {
            var config = bf16.running.engine().config();
            assertEquals(KvCacheDtype.BF16, config.kvCacheDtype());
            assertEquals(2 * f32Blocks, config.numBlocks(), "the same --kv-cache-memory holds twice the blocks");
            assertTrue(bf16.startupLog.contains("KV cache bf16, " + config.numBlocks() + " blocks"), bf16.startupLog);
            HttpJson.Reply reply = bf16.http.post("/v1/chat/completions", CHAT);
            assertEquals(200, reply.status(), reply.text());
            assertEquals(8, reply.json().at("/usage/completion_tokens").asInt());
            assertEquals(f32Reply, content(reply), "greedy tokens of a short reply agree with the f32 cache");
        }
    }

    private static String content(HttpJson.Reply reply) {
        assertEquals(200, reply.status(), reply.text());
        return reply.json().at("/choices/0/message/content").asText();
    }
}

package io.latentserve.server.cli;

import io.latentserve.model.random.DemoModel;
import io.latentserve.server.Main;
import io.latentserve.server.ServeCommand;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `latentserve chat` with piped stdin: against the model in this process and against a running server. */
class ChatCommandTest {
    private static Path demo;

    record Run(int status, String out, String err) {
    }

    @BeforeAll
    static void model() throws IOException {
        Path root = Path.of(System.getProperty("java.io.tmpdir"), "latentserve-test-cache");
        Files.createDirectories(root);
        demo = DemoModel.ensure(root);
    }

    static Run chat(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] argv = new String[args.length + 1];
        argv[0] = "chat";
        System.arraycopy(args, 0, argv, 1, args.length);
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            try {
                status = ChatCommand.run(argv, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), o, e);
            } catch (Args.UsageException ex) {
                e.println(ex.getMessage());
                status = 2;
            } catch (IllegalStateException ex) {
                e.println(ex.getMessage());
                status = 1;
            }
        }
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void chatsWithTheModelInThisProcessUntilEndOfInput() {
        Run r = chat("Write a Python function that reverses a string.\n\n/reset\nWrite a function that adds two numbers.\n",
                "--model", demo.toString(), "--device", "cpu", "--temperature", "0", "--max-tokens", "24");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("loading weights"), "the load progress bar is shown: " + r.err());
        assertTrue(r.err().contains("in this process"), r.err());
        assertEquals(2, r.err().split("prompt tokens", -1).length - 1, "two replies: " + r.err());
        assertTrue(r.err().contains("(conversation forgotten)"), r.err());
        String[] replies = r.out().strip().split("\n", -1);
        assertFalse(r.out().isBlank(), "the replies were printed");
        System.out.println("local chat:\n" + r.out() + replies.length + " lines");
    }

    @Test
    void exitEndsTheChatBeforeTheRestOfTheInput() {
        Run r = chat("/exit\nthis line is never read\n", "--model", demo.toString(), "--device", "cpu");
        assertEquals(0, r.status(), r.err());
        assertFalse(r.err().contains("prompt tokens"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void chatsWithARunningServerOverSse() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream logStream = new PrintStream(log, true, StandardCharsets.UTF_8);
        try (ServeCommand.Running server = ServeCommand.start(new String[]{"serve", "--model", demo.toString(),
                "--device", "cpu", "--port", "0", "--served-model-name", "demo", "--kv-cache-memory", "32MiB",
                "--block-size", "16", "--max-model-len", "1024", "--api-key", "sk-chat"}, logStream, logStream)) {
            String url = "http://127.0.0.1:" + server.port();
            Run r = chat("def fibonacci(n):\nWhat does it return?\n", "--url", url, "--api-key", "sk-chat",
                    "--temperature", "0", "--max-tokens", "16");
            assertEquals(0, r.status(), r.err());
            assertTrue(r.err().contains("model demo at " + url), r.err());
            assertEquals(2, r.err().split("prompt tokens", -1).length - 1, "two replies: " + r.err());
            assertFalse(r.out().isBlank(), r.err());
            System.out.println("remote chat:\n" + r.out());

            Run noKey = chat("hello\n", "--url", url, "--api-key", "");
            assertEquals(1, noKey.status(), noKey.err());
            assertTrue(noKey.err().contains("401"), noKey.err());
        }
    }

    @Test
    void mistakesAreClearErrors() {
        Run down = chat("hello\n", "--url", "http://127.0.0.1:1");
        assertEquals(1, down.status());
        assertTrue(down.err().contains("cannot reach http://127.0.0.1:1"), down.err());
        Run both = chat("", "--url", "http://127.0.0.1:1", "--model", demo.toString());
        assertEquals(2, both.status());
        assertTrue(both.err().contains("not both"), both.err());
    }

    @Test
    void theLauncherKnowsTheCommand() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = Main.run(new String[]{"chat", "--help"}, new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        assertEquals(0, status);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("latentserve chat [--url"));
    }
}

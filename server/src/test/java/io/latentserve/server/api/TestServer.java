package io.latentserve.server.api;

import io.latentserve.model.random.DemoModel;
import io.latentserve.server.ServeCommand;
import io.latentserve.server.engine.EngineStats;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A real server started through `latentserve serve --port 0`, on the demo model unless told otherwise. */
final class TestServer implements AutoCloseable {
    final ServeCommand.Running running;
    final HttpJson http;
    final String startupLog;

    private TestServer(ServeCommand.Running running, String startupLog) {
        this.running = running;
        this.http = new HttpJson("http://127.0.0.1:" + running.port());
        this.startupLog = startupLog;
    }

    /** The demo model, cached in a temp folder shared by the test JVM. */
    static Path demoModel() {
        try {
            Path root = Path.of(System.getProperty("java.io.tmpdir"), "latentserve-test-cache");
            Files.createDirectories(root);
            return DemoModel.ensure(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The demo model with small test-sized limits; extra options override them. */
    static TestServer demo(String... extra) {
        return start(demoModel(), extra);
    }

    static TestServer start(Path model, String... extra) {
        List<String> args = new ArrayList<>(List.of("serve", "--model", model.toString(), "--device", "cpu",
                "--port", "0", "--served-model-name", "demo", "--kv-cache-memory", "48MiB", "--block-size", "16",
                "--max-model-len", "2048", "--max-num-seqs", "64", "--max-batched-tokens", "1024"));
        args.addAll(List.of(extra));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
        var running = ServeCommand.start(args.toArray(String[]::new), out, out);
        String text = log.toString(StandardCharsets.UTF_8);
        System.out.print(text);
        return new TestServer(running, text);
    }

    String model() {
        return running.server().context().model().name();
    }

    /** Waits until the engine has nothing running or waiting, then returns a fresh snapshot. */
    EngineStats awaitIdle() throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            EngineStats s = running.engine().stats();
            if (s.running() == 0 && s.waiting() == 0 && s.kvUsage() == 0) {
                Thread.sleep(80); // one more loop turn so the snapshot follows the last free
                return running.engine().stats();
            }
            Thread.sleep(25);
        }
        throw new AssertionError("engine did not become idle: " + running.engine().stats());
    }

    @Override
    public void close() {
        running.close();
    }
}

package io.latentserve.model.random;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;

/**
 * The built-in demo model: a small DeepSeek-V2 (MLA with the latent cache, MoE with shared and routed experts,
 * YaRN) trained by {@code tools/train-demo-model} on the Python standard library sources, with its own byte-level
 * BPE vocabulary and the DeepSeek-Coder FIM tokens. It ships inside the model jar and is copied on first use into
 * the cache folder as an ordinary HuggingFace checkpoint, then loaded through the normal path.
 * <p>
 * The folder name carries {@link #VERSION}: a new checkpoint gets a new folder, so a stale cache is never reused.
 * {@link RandomDemoModel} keeps the random-weight checkpoint for tests and benchmarks.
 */
public final class DemoModel {
    /** Bump with every new trained checkpoint in the resources. */
    public static final String VERSION = "coder-v1";
    public static final String NAME = "latentserve-demo-" + VERSION;
    /** One line for logs: what the demo model is and what to expect from it. */
    public static final String DESCRIPTION = NAME + ": an 8.6M-parameter DeepSeek-V2 trained for half an hour on two "
            + "CPU cores on the Python standard library; it writes Python-shaped code, rarely correct";

    static final String RESOURCES = "/io/latentserve/model/demo/";
    /** The files of the checkpoint in the resources; model.safetensors last, so its presence means complete. */
    static final List<String> FILES = List.of("config.json", "tokenizer.json", "tokenizer_config.json",
            "generation_config.json", "training.json", "reference.json", "model.safetensors");

    public static final String BOS = "<｜begin▁of▁sentence｜>";
    public static final String EOS = "<｜end▁of▁sentence｜>";
    public static final String FIM_HOLE = "<｜fim▁hole｜>";
    public static final String FIM_BEGIN = "<｜fim▁begin｜>";
    public static final String FIM_END = "<｜fim▁end｜>";

    /** The DeepSeek-V2-Chat template (tokenizer_config.json of the real checkpoints). */
    public static final String CHAT_TEMPLATE = "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
            + "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\\n\\n' }}"
            + "{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}"
            + "{% elif message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}{% endif %}{% endfor %}"
            + "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

    private DemoModel() {
    }

    /** The cache folder: $LATENTSERVE_CACHE, else ~/.cache/latentserve. */
    public static Path defaultCacheRoot() {
        String env = System.getenv("LATENTSERVE_CACHE");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "latentserve");
    }

    /** Returns the demo checkpoint folder under cacheRoot, extracting it from the jar on first use (atomically). */
    public static Path ensure(Path cacheRoot) {
        Path dir = cacheRoot.resolve(NAME);
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) {
            return dir;
        }
        try {
            Files.createDirectories(cacheRoot);
            Path tmp = Files.createTempDirectory(cacheRoot, NAME + ".tmp");
            try {
                extract(tmp);
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException | RuntimeException e) {
                deleteTree(tmp);
                if (!Files.isRegularFile(dir.resolve("model.safetensors"))) {
                    throw e;
                } // else another process created it first
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the demo model under " + cacheRoot + ": " + e.getMessage(), e);
        }
    }

    private static void extract(Path dir) throws IOException {
        for (String file : FILES) {
            try (InputStream in = DemoModel.class.getResourceAsStream(RESOURCES + file)) {
                if (in == null) {
                    throw new IllegalStateException("the demo model's " + file + " is missing from the classpath ("
                            + RESOURCES + "); rebuild the model module (mvn install) from a complete checkout");
                }
                Files.copy(in, dir.resolve(file));
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

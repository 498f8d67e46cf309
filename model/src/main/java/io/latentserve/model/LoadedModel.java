package io.latentserve.model;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.checkpoint.CheckpointException;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.graph.ModelLoader;
import io.latentserve.model.tokenizer.BpeTokenizer;
import io.latentserve.model.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/** A checkpoint folder opened for use: the model on a backend, its tokenizer, and where it came from. */
public record LoadedModel(Path dir, String name, CausalLM model, Tokenizer tokenizer) implements AutoCloseable {

    public static LoadedModel open(Path dir, Backend backend) {
        return open(dir, backend, io.latentserve.model.graph.LoadProgress.NONE);
    }

    /** Opens the checkpoint, reporting weight loading to `progress`. */
    public static LoadedModel open(Path dir, Backend backend, io.latentserve.model.graph.LoadProgress progress) {
        Path tokenizerJson = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new CheckpointException("no tokenizer.json in " + dir
                    + " (LatentServe needs the HuggingFace tokenizer file next to the weights)");
        }
        Path tokenizerConfig = dir.resolve("tokenizer_config.json");
        Tokenizer tokenizer = BpeTokenizer.fromTokenizerJson(tokenizerJson,
                Files.isRegularFile(tokenizerConfig) ? tokenizerConfig : null);
        CausalLM model = ModelLoader.load(dir, backend, progress);
        Path fileName = dir.toAbsolutePath().normalize().getFileName();
        return new LoadedModel(dir, fileName == null ? dir.toString() : fileName.toString(), model, tokenizer);
    }

    /** The chat template of tokenizer_config.json, or null when it has none. */
    public Path tokenizerConfig() {
        Path p = dir.resolve("tokenizer_config.json");
        return Files.isRegularFile(p) ? p : null;
    }

    @Override
    public void close() {
        model.close();
    }
}

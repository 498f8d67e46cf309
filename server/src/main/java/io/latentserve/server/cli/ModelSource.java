package io.latentserve.server.cli;

import io.latentserve.model.random.DemoModel;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves --model: a checkpoint folder, or the built-in demo model (created on first use and cached). */
final class ModelSource {
    private ModelSource() {
    }

    static Path resolve(String model, PrintStream log) {
        if (model == null) {
            Path dir = DemoModel.ensure(DemoModel.defaultCacheRoot());
            log.println("latentserve: using the built-in demo model (" + DemoModel.DESCRIPTION + "); pass --model DIR "
                    + "to run a real checkpoint");
            return dir;
        }
        Path dir = Path.of(model);
        if (!Files.isDirectory(dir)) {
            throw new Args.UsageException("--model " + model + " is not a folder (expected a HuggingFace checkpoint "
                    + "folder with config.json, *.safetensors and tokenizer.json)");
        }
        return dir;
    }
}

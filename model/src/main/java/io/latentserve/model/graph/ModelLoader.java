package io.latentserve.model.graph;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.checkpoint.Checkpoint;
import io.latentserve.model.checkpoint.TensorStore;
import io.latentserve.model.config.ConfigLoader;
import io.latentserve.model.config.ModelConfig;

import java.nio.file.Path;

/** Opens a HuggingFace checkpoint folder (config.json + safetensors) as a model on a backend. */
public final class ModelLoader {
    private ModelLoader() {
    }

    public static CausalLM load(Path dir, Backend backend) {
        return load(dir, backend, LoadProgress.NONE);
    }

    public static CausalLM load(Path dir, Backend backend, LoadProgress progress) {
        ModelConfig config = ConfigLoader.load(dir);
        TensorStore store = Checkpoint.open(dir);
        try {
            Weights w = new Weights(store, backend, progress);
            CausalLM model = switch (config.architecture()) {
                case DEEPSEEK_V2 -> new DeepseekV2Model(config, w);
                case LLAMA -> new LlamaModel(config, w);
            };
            w.finish();
            return model;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }
}

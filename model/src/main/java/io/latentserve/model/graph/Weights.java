package io.latentserve.model.graph;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.checkpoint.CheckpointException;
import io.latentserve.model.checkpoint.TensorStore;
import io.latentserve.model.checkpoint.TensorView;

/** Hands checkpoint tensors to the backend after checking that each exists with the shape the config implies. */
public final class Weights {
    private final TensorStore store;
    private final Backend backend;

    public Weights(TensorStore store, Backend backend) {
        this.store = store;
        this.backend = backend;
    }

    public Tensor get(String name, long... shape) {
        TensorView view = store.get(name).requireShape(shape);
        if (!view.dtype().isSupportedWeightType()) {
            throw new CheckpointException("tensor " + name + " in " + view.file() + " has dtype " + view.dtype()
                    + "; supported weight types are BF16, F16 and F32");
        }
        return backend.weight(view);
    }

    public boolean has(String name) {
        return store.find(name).isPresent();
    }

    public Backend backend() {
        return backend;
    }

    public TensorStore store() {
        return store;
    }
}

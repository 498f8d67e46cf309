package io.latentserve.model.graph;

import io.latentserve.model.random.HashedTensorStore;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.checkpoint.CheckpointException;
import io.latentserve.model.checkpoint.TensorStore;
import io.latentserve.model.checkpoint.TensorView;

/** Hands checkpoint tensors to the backend after checking that each exists with the shape the config implies. */
public final class Weights {
    private final TensorStore store;
    private final Backend backend;
    private final LoadProgress progress;
    private final int totalTensors;
    private final long totalBytes;
    private int doneTensors;
    private long doneBytes;

    public Weights(TensorStore store, Backend backend) {
        this(store, backend, LoadProgress.NONE);
    }

    public Weights(TensorStore store, Backend backend, LoadProgress progress) {
        this.store = store;
        this.backend = backend;
        this.progress = progress;
        long bytes = 0;
        for (String name : store.names()) {
            bytes += store.byteSize(name);
        }
        this.totalTensors = store.names().size();
        this.totalBytes = bytes;
    }

    public Tensor get(String name, long... shape) {
        if (store instanceof HashedTensorStore hashed) {
            return hashedWeight(hashed, name, shape);
        }
        TensorView view = store.get(name).requireShape(shape);
        if (!view.dtype().isSupportedWeightType()) {
            throw new CheckpointException("tensor " + name + " in " + view.file() + " has dtype " + view.dtype()
                    + "; supported weight types are BF16, F16 and F32");
        }
        Tensor t = backend.weight(view);
        doneTensors++;
        doneBytes += view.data().byteSize();
        progress.update(doneTensors, totalTensors, doneBytes, totalBytes);
        return t;
    }

    /** A weight made by the backend from its hash fill (on a GPU: in place, no host copy). */
    private Tensor hashedWeight(HashedTensorStore hashed, String name, long[] shape) {
        if (!java.util.Arrays.equals(hashed.shape(name), shape)) {
            throw new CheckpointException("tensor " + name + " in " + hashed.location() + " has shape "
                    + java.util.Arrays.toString(hashed.shape(name)) + " but the model config requires "
                    + java.util.Arrays.toString(shape));
        }
        Tensor t = backend.hashedWeight(name, shape, hashed.fillOf(name), () -> hashed.get(name));
        doneTensors++;
        doneBytes += hashed.byteSize(name);
        progress.update(doneTensors, totalTensors, doneBytes, totalBytes);
        return t;
    }

    /** Marks loading complete (tensors the model does not use, e.g. training leftovers, are skipped). */
    public void finish() {
        progress.update(totalTensors, totalTensors, totalBytes, totalBytes);
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

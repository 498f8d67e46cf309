package io.latentserve.model.checkpoint;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/** The tensors of a checkpoint by name (one safetensors file, or many shards behind an index). */
public interface TensorStore extends AutoCloseable {

    /** The checkpoint's folder or file, for messages. */
    Path location();

    Set<String> names();

    Optional<TensorView> find(String name);

    /** Bytes the named tensor holds as stored (a store whose tensors are made on demand says so without making it). */
    default long byteSize(String name) {
        return get(name).data().byteSize();
    }

    /** The tensor, or a CheckpointException naming the checkpoint and the missing tensor. */
    default TensorView get(String name) {
        return find(name).orElseThrow(() -> new CheckpointException(
                "tensor " + name + " is missing from checkpoint " + location()));
    }

    /** Unmaps the files; views handed out before become unusable. */
    @Override
    void close();
}

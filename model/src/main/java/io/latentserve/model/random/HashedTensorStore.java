package io.latentserve.model.random;

import io.latentserve.model.checkpoint.DType;
import io.latentserve.model.checkpoint.TensorStore;
import io.latentserve.model.checkpoint.TensorView;
import io.latentserve.model.config.ModelConfig;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Random BF16 weights for a config whose every value is a {@link HashFill} of the tensor's name: a backend
 * that can fill memory itself (the CUDA backend) makes them in place through
 * {@link io.latentserve.model.backend.Backend#hashedWeight}, without a host copy; anything that asks for a
 * {@link TensorView} gets the same values materialised on the host, once, on first use.
 */
public final class HashedTensorStore implements TensorStore {
    private final Map<String, long[]> shapes;
    private final int modelSeed;
    private final Path location;
    private final Arena arena = Arena.ofShared();
    private final Map<String, TensorView> materialised = new ConcurrentHashMap<>();

    public HashedTensorStore(ModelConfig config, int modelSeed) {
        this.shapes = CheckpointShapes.of(config);
        this.modelSeed = modelSeed;
        this.location = Path.of("hashed-weights-seed-" + modelSeed);
        for (long[] shape : shapes.values()) {
            HashFill.checkCount(count(shape));
        }
    }

    /** How the named tensor's values are made. */
    public HashFill fillOf(String name) {
        return HashFill.forTensor(name, shape(name), modelSeed);
    }

    public long[] shape(String name) {
        long[] shape = shapes.get(name);
        if (shape == null) {
            throw new IllegalArgumentException("no tensor " + name + " in " + location);
        }
        return shape.clone();
    }

    @Override
    public long byteSize(String name) {
        return count(shape(name)) * DType.BF16.byteSize();
    }

    @Override
    public Path location() {
        return location;
    }

    @Override
    public Set<String> names() {
        return shapes.keySet();
    }

    @Override
    public Optional<TensorView> find(String name) {
        if (!shapes.containsKey(name)) {
            return Optional.empty();
        }
        return Optional.of(materialised.computeIfAbsent(name, n -> {
            long[] shape = shape(n);
            long count = count(shape);
            MemorySegment seg = arena.allocate(Math.max(2, count * 2), 64);
            fillOf(n).fillBf16(seg, count);
            return new TensorView(n, DType.BF16, shape, seg, location);
        }));
    }

    @Override
    public void close() {
        arena.close();
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}

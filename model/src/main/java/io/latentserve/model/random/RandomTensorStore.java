package io.latentserve.model.random;

import io.latentserve.model.checkpoint.DType;
import io.latentserve.model.checkpoint.TensorStore;
import io.latentserve.model.checkpoint.TensorView;
import io.latentserve.model.config.ModelConfig;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Deterministic random BF16 weights for a config, held off-heap (no file): for benchmarks at real layer
 * shapes and for tests. Values are uniform with std gain/√fan_in; RMSNorm scales are 1 ± small noise.
 */
public final class RandomTensorStore implements TensorStore {
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofShared();
    private final Map<String, TensorView> tensors = new LinkedHashMap<>();
    private final Path location;

    public RandomTensorStore(ModelConfig config, long seed) {
        this.location = Path.of("random-weights-seed-" + seed);
        int index = 0;
        for (var e : CheckpointShapes.of(config).entrySet()) {
            long[] shape = e.getValue();
            long count = 1;
            for (long dim : shape) {
                count *= dim;
            }
            MemorySegment seg = arena.allocate(count * 2, 64);
            double std = CheckpointShapes.isNorm(e.getKey()) ? 0.1 : 1.0 / Math.sqrt(shape[shape.length - 1]);
            if (e.getKey().endsWith("embed_tokens.weight")) {
                std = 1.0;
            }
            fill(seg, count, seed * 1_000_003L + index++, std, CheckpointShapes.isNorm(e.getKey()) ? 1f : 0f);
            tensors.put(e.getKey(), new TensorView(e.getKey(), DType.BF16, shape, seg, location));
        }
    }

    /** Fills count bf16 values with mean + uniform noise of the given std, in parallel, deterministically. */
    private static void fill(MemorySegment seg, long count, long seed, double std, float mean) {
        long pairs = count / 2;
        int chunks = (int) Math.max(1, Math.min(4096, pairs / 65536));
        float amplitude = (float) (std * Math.sqrt(3.0));
        IntStream.range(0, chunks).parallel().forEach(c -> {
            SplittableRandom rnd = new SplittableRandom(seed + 31L * c);
            long from = pairs * c / chunks;
            long to = pairs * (c + 1) / chunks;
            for (long i = from; i < to; i++) {
                int lo = bf16(mean + amplitude * (2 * rnd.nextFloat() - 1));
                int hi = bf16(mean + amplitude * (2 * rnd.nextFloat() - 1));
                seg.setAtIndex(INT_LE, i, lo | hi << 16);
            }
        });
        if (count % 2 == 1) {
            seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), (count - 1) * 2,
                    (short) bf16(mean));
        }
    }

    /** Truncating f32 → bf16 is enough for random data. */
    private static int bf16(float v) {
        return Float.floatToRawIntBits(v) >>> 16;
    }

    @Override
    public Path location() {
        return location;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public Optional<TensorView> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public void close() {
        arena.close();
    }
}

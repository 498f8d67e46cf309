package io.latentserve.model.perf;

import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.ExpertWeights;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.backend.MlaShape;
import io.latentserve.model.backend.MoeRouting;
import io.latentserve.model.backend.PendingRows;
import io.latentserve.model.backend.RopeTable;
import io.latentserve.model.backend.RouterConfig;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.checkpoint.TensorView;
import io.latentserve.model.random.HashFill;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * A backend that passes every operation to another and, while {@link #recording}, times each one: the
 * device is synchronised (the given hook) before and after, so each operation's wall time is its own,
 * launches and host work included. Off, it only delegates. For benchmarks to say where a step's time goes.
 */
public final class ProfilingBackend implements Backend {
    private final Backend inner;
    private final Runnable synchronize;
    private final Map<String, long[]> byOp = new LinkedHashMap<>();   // name -> {calls, nanos}
    private boolean recording;

    public ProfilingBackend(Backend inner, Runnable synchronize) {
        this.inner = inner;
        this.synchronize = synchronize;
    }

    public Backend inner() {
        return inner;
    }

    /** Starts or stops timing; starting clears what was recorded. */
    public void recording(boolean on) {
        if (on) {
            byOp.clear();
        }
        recording = on;
    }

    /** Per operation: calls and milliseconds, most expensive first, as table lines. */
    public List<String> report() {
        long total = byOp.values().stream().mapToLong(v -> v[1]).sum();
        return byOp.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]))
                .map(e -> tableLine(e.getKey(), e.getValue()[0], e.getValue()[1] / 1e6,
                        100.0 * e.getValue()[1] / Math.max(1, total)))
                .collect(Collectors.toList());
    }

    /** One line of a profile table: | name | calls | ms | share |. */
    public static String tableLine(String name, long calls, double millis, double sharePercent) {
        return String.format(Locale.ROOT, "| %-44s | %6d | %9.3f | %5.1f%% |", name, calls, millis, sharePercent);
    }

    /** Milliseconds recorded per operation name. */
    public Map<String, Double> millis() {
        return byOp.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue()[1] / 1e6,
                (a, b) -> a, LinkedHashMap::new));
    }

    private void timed(String op, Runnable work) {
        if (!recording) {
            work.run();
            return;
        }
        synchronize.run();
        long start = System.nanoTime();
        work.run();
        synchronize.run();
        long[] v = byOp.computeIfAbsent(op, k -> new long[2]);
        v[0]++;
        v[1] += System.nanoTime() - start;
    }

    private <T> T timed(String op, Supplier<T> work) {
        Object[] result = new Object[1];
        timed(op, () -> {
            result[0] = work.get();
        });
        @SuppressWarnings("unchecked")
        T t = (T) result[0];
        return t;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public void beginForward() {
        inner.beginForward();
    }

    @Override
    public Tensor weight(TensorView view) {
        return inner.weight(view);
    }

    @Override
    public Tensor hashedWeight(String name, long[] shape, HashFill fill, Supplier<TensorView> hostView) {
        return inner.hashedWeight(name, shape, fill, hostView);
    }

    @Override
    public Tensor activation(int rows, int cols) {
        return timed("activation", () -> inner.activation(rows, cols));
    }

    @Override
    public Tensor columns(Tensor activation, int offset, int cols) {
        return inner.columns(activation, offset, cols);
    }

    @Override
    public Tensor rowRange(Tensor activation, int offset, int rows) {
        return inner.rowRange(activation, offset, rows);
    }

    @Override
    public KvCache kvCache(int numLayers, int numBlocks, int blockSize, int width, KvCacheDtype dtype) {
        return inner.kvCache(numLayers, numBlocks, blockSize, width, dtype);
    }

    @Override
    public float[] toHost(Tensor activation) {
        return timed("toHost (logits to host)", () -> inner.toHost(activation));
    }

    @Override
    public float[][] toHostRows(Tensor activation) {
        return timed("toHost (logits to host)", () -> inner.toHostRows(activation));
    }

    @Override
    public boolean samplesRows() {
        return inner.samplesRows();
    }

    @Override
    public SampledRows sampleRows(Tensor logits, RowSampling[] sampling) {
        return timed("sampleRows (sampling, remaining logits to host)", () -> inner.sampleRows(logits, sampling));
    }

    @Override
    public PendingRows launchSampleRows(Tensor logits, RowSampling[] sampling, PendingRows previous) {
        return timed("sampleRows (launched, tokens later)", () -> inner.launchSampleRows(logits, sampling, previous));
    }

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        timed("embedding", () -> inner.embedding(table, ids, out));
    }

    @Override
    public void embedding(Tensor table, int[] ids, PendingRows previous, Tensor out) {
        timed("embedding", () -> inner.embedding(table, ids, previous, out));
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        timed("rmsNorm", () -> inner.rmsNorm(x, weight, eps, out));
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor out) {
        timed("matmul [" + w.rows() + " x " + w.cols() + "]", () -> inner.matmul(x, w, out));
    }

    @Override
    public void add(Tensor acc, Tensor x) {
        timed("add", () -> inner.add(acc, x));
    }

    @Override
    public void mlaLatentRows(Tensor kv, int kvLoraRank, int ropeDim, Tensor normWeight, float eps, RopeTable rope,
                              int[] positions, KvCache cache, int layer, int[] slotMapping) {
        timed("mlaLatentRows", () -> inner.mlaLatentRows(kv, kvLoraRank, ropeDim, normWeight, eps, rope, positions,
                cache, layer, slotMapping));
    }

    @Override
    public void addRmsNorm(Tensor residual, Tensor x, Tensor weight, float eps, Tensor out) {
        timed("addRmsNorm", () -> inner.addRmsNorm(residual, x, weight, eps, out));
    }

    @Override
    public void siluMul(Tensor gate, Tensor up, Tensor out) {
        timed("siluMul", () -> inner.siluMul(gate, up, out));
    }

    @Override
    public void rope(Tensor x, int numHeads, int headStride, int ropeOffset, RopeTable rope, int[] positions) {
        timed("rope", () -> inner.rope(x, numHeads, headStride, ropeOffset, rope, positions));
    }

    @Override
    public void writeKvCache(KvCache cache, int layer, Tensor rows, int[] slotMapping) {
        timed("writeKvCache", () -> inner.writeKvCache(cache, layer, rows, slotMapping));
    }

    @Override
    public void mlaAttention(Tensor q, KvCache cache, int layer, Tensor kvB, MlaShape shape, AttentionBatch batch,
                             MlaMode mode, Tensor out) {
        timed("mlaAttention " + mode, () -> inner.mlaAttention(q, cache, layer, kvB, shape, batch, mode, out));
    }

    @Override
    public void gqaAttention(Tensor q, KvCache cache, int layer, int numHeads, int numKvHeads, int headDim,
                             float scale, AttentionBatch batch, Tensor out) {
        timed("gqaAttention", () -> inner.gqaAttention(q, cache, layer, numHeads, numKvHeads, headDim, scale, batch,
                out));
    }

    @Override
    public MoeRouting route(Tensor x, Tensor gate, RouterConfig config) {
        return timed("moe route", () -> inner.route(x, gate, config));
    }

    @Override
    public void moeExperts(Tensor x, MoeRouting routing, List<ExpertWeights> experts, Tensor out) {
        timed("moe experts", () -> inner.moeExperts(x, routing, experts, out));
    }

    @Override
    public void moe(Tensor x, Tensor gate, RouterConfig config, List<ExpertWeights> experts, Tensor out) {
        timed("moe (routed experts)", () -> inner.moe(x, gate, config, experts, out));
    }

    @Override
    public void moe(Tensor x, Tensor gate, RouterConfig config, List<ExpertWeights> experts, ExpertWeights shared,
                    Tensor out) {
        timed(shared != null ? "moe (shared + routed experts)" : "moe (routed experts)",
                () -> inner.moe(x, gate, config, experts, shared, out));
    }

    @Override
    public void close() {
        inner.close();
    }
}

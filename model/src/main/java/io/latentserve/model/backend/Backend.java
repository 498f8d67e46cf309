package io.latentserve.model.backend;

import io.latentserve.model.checkpoint.TensorView;
import io.latentserve.model.random.HashFill;

import java.util.List;
import java.util.function.Supplier;

/**
 * The tensor operations the model graph is written against (DESIGN.md "Backends"). Activations are
 * f32 [tokens, width]; weights stay in their stored dtype. Implementations: the pure-Java CPU backend
 * (the reference) and the CUDA backend.
 */
public interface Backend extends AutoCloseable {

    String name();

    // ---- memory ----

    /**
     * A forward pass starts: activations of the previous one may be reused (the CUDA backend resets its
     * activation arena here, so a pass that failed midway does not leak its activations).
     */
    default void beginForward() {
    }

    /** A weight as the model uses it: 2-D [out, in], or a 1-D vector as one row. */
    Tensor weight(TensorView view);

    /**
     * A bf16 weight of this shape whose values are the fill's (see {@link HashFill}); by default the host
     * view is materialised and uploaded like any other, a device backend fills its memory in place.
     */
    default Tensor hashedWeight(String name, long[] shape, HashFill fill, Supplier<TensorView> hostView) {
        return weight(hostView.get());
    }

    /** A zeroed f32 activation [rows, cols]. */
    Tensor activation(int rows, int cols);

    /** Columns [offset, offset + cols) of an activation, sharing its storage. */
    Tensor columns(Tensor activation, int offset, int cols);

    /** Rows [offset, offset + rows) of an activation, sharing its storage. */
    Tensor rowRange(Tensor activation, int offset, int rows);

    /** A zeroed f32 KV cache: {@link #kvCache(int, int, int, int, KvCacheDtype)} with F32. */
    default KvCache kvCache(int numLayers, int numBlocks, int blockSize, int width) {
        return kvCache(numLayers, numBlocks, blockSize, width, KvCacheDtype.F32);
    }

    /** A zeroed paged KV cache of numBlocks blocks of blockSize rows of `width` values per layer, stored as dtype. */
    KvCache kvCache(int numLayers, int numBlocks, int blockSize, int width, KvCacheDtype dtype);

    /** Copies rows of an f32 activation to the host, row after row. */
    float[] toHost(Tensor activation);

    /** As {@link #toHost}, one array per row (logits: one per sequence); a backend may skip the flat copy. */
    default float[][] toHostRows(Tensor activation) {
        float[] flat = toHost(activation);
        int cols = activation.cols();
        float[][] rows = new float[activation.rows()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = java.util.Arrays.copyOfRange(flat, i * cols, (i + 1) * cols);
        }
        return rows;
    }

    /**
     * Whether {@link #sampleRows} samples rows itself (a device backend: the logits stay on the device).
     * False by default: every row comes to the host and the caller samples.
     */
    default boolean samplesRows() {
        return false;
    }

    /**
     * The batch sizes this backend wants decode steps padded to (a backend that replays CUDA graphs: one graph per
     * bucket). {@link DecodeBuckets#NONE} by default.
     */
    default DecodeBuckets decodeBuckets() {
        return DecodeBuckets.NONE;
    }

    /**
     * Turns logits [R, V] into tokens where {@code sampling[r]} is given and this backend {@link #samplesRows},
     * by the rules of {@link RowSampling#sample}; the other rows (null entries) come to the host as
     * {@link #toHostRows} would copy them, only those. Like toHost, this ends the step. By default nothing is
     * sampled here and every row is copied.
     *
     * @param sampling one entry per row, null for a row the caller samples on the host
     */
    default SampledRows sampleRows(Tensor logits, RowSampling[] sampling) {
        if (sampling.length != logits.rows()) {
            throw new IllegalArgumentException(sampling.length + " sampling entries for " + logits.rows() + " rows");
        }
        return SampledRows.allOnHost(toHostRows(logits));
    }

    /**
     * As {@link #sampleRows}, but it may return before the tokens reach the host: a backend that samples on
     * the device queues the sampling and the tokens' copy and returns, and {@link PendingRows#await()} waits
     * for them. Until it is awaited, the next forward pass may begin ({@link #beginForward}) and name this
     * pass's tokens by {@link PendingRows#marker markers} ({@link #embedding(Tensor, int[], PendingRows, Tensor)}).
     * By default it runs sampleRows and returns a completed result.
     *
     * @param previous the pass launched before this one (null if none): a row's {@link LogitEdits#pendingRow}
     *                 names one of its rows, whose token the backend folds into the edits as it resolves markers
     */
    default PendingRows launchSampleRows(Tensor logits, RowSampling[] sampling, PendingRows previous) {
        return PendingRows.completed(sampleRows(logits, sampling));
    }

    // ---- element-wise and dense ----

    /** out[t] = table[ids[t]] (widened to f32). */
    void embedding(Tensor table, int[] ids, Tensor out);

    /**
     * As {@link #embedding(Tensor, int[], Tensor)}, where ids may hold {@link PendingRows#marker markers} naming
     * the tokens the previous launched pass sampled. By default they are resolved on the host (awaiting
     * previous); a backend that samples on the device resolves them there. A marker with no previous pass, or
     * naming a row it did not sample on the device, is an IllegalArgumentException.
     */
    default void embedding(Tensor table, int[] ids, PendingRows previous, Tensor out) {
        embedding(table, PendingRows.resolve(ids, previous), out);
    }

    /** out = x · rsqrt(mean(x²) + eps) · weight, per row, in f32. x and out may be the same. */
    void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out);

    /** out[T, N] = x[T, K] · w[N, K]ᵀ with f32 accumulation. */
    void matmul(Tensor x, Tensor w, Tensor out);

    /** acc += x. */
    void add(Tensor acc, Tensor x);

    /**
     * residual += x, then out = RMSNorm(residual) · weight: the residual add that ends one sub-layer and the norm
     * that starts the next. A backend may fuse them (one pass over the rows, one launch); the result is that of
     * {@link #add} then {@link #rmsNorm}, which this default runs.
     */
    default void addRmsNorm(Tensor residual, Tensor x, Tensor weight, float eps, Tensor out) {
        add(residual, x);
        rmsNorm(residual, weight, eps, out);
    }

    /** out = silu(gate) ⊙ up. */
    void siluMul(Tensor gate, Tensor up, Tensor out);

    /**
     * Rotates, in place, the rope part of each head of x: for head h the dims
     * [h·headStride + ropeOffset, + rope.dim()), at each token's position.
     */
    void rope(Tensor x, int numHeads, int headStride, int ropeOffset, RopeTable rope, int[] positions);

    // ---- attention ----

    /** Writes row t of `rows` ([T, width]) into cache row slotMapping[t] of the layer. */
    void writeKvCache(KvCache cache, int layer, Tensor rows, int[] slotMapping);

    /**
     * MLA's latent rows kv = [c (kvLoraRank) | k_pe (ropeDim)] (kv_a_proj's output) finished and cached: in place,
     * c = RMSNorm(c) · normWeight and k_pe rotated at each row's position; then row t into cache row
     * slotMapping[t] of the layer. By default {@link #rmsNorm}, {@link #rope}, {@link #writeKvCache}; a backend may
     * fuse them (one pass over the rows) with the same results.
     */
    default void mlaLatentRows(Tensor kv, int kvLoraRank, int ropeDim, Tensor normWeight, float eps, RopeTable rope,
                               int[] positions, KvCache cache, int layer, int[] slotMapping) {
        Tensor latent = columns(kv, 0, kvLoraRank);
        rmsNorm(latent, normWeight, eps, latent);
        rope(columns(kv, kvLoraRank, ropeDim), 1, 0, 0, rope, positions);
        writeKvCache(cache, layer, kv, slotMapping);
    }

    /**
     * MLA attention over the latent cache (which already holds this batch's tokens).
     * q [T, H·(dn+dr)] with RoPE applied; kvB = kv_b_proj [H·(dn+dv), r]; out [T, H·dv].
     */
    void mlaAttention(Tensor q, KvCache cache, int layer, Tensor kvB, MlaShape shape, AttentionBatch batch,
                      MlaMode mode, Tensor out);

    /**
     * Causal multi-head attention with grouped KV heads over a K/V cache whose rows are [K ; V]
     * (each kvHeads·headDim wide). q [T, H·headDim] with RoPE applied; out [T, H·headDim].
     */
    void gqaAttention(Tensor q, KvCache cache, int layer, int numHeads, int numKvHeads, int headDim, float scale,
                      AttentionBatch batch, Tensor out);

    // ---- mixture of experts ----

    /** Router: softmax over x · gateᵀ, then top-k with the DeepSeek-V2 rules. */
    MoeRouting route(Tensor x, Tensor gate, RouterConfig config);

    /** out += Σ_k weight_k · expert_k(x) for each token, experts chosen by the routing. */
    void moeExperts(Tensor x, MoeRouting routing, List<ExpertWeights> experts, Tensor out);

    /**
     * The routed experts end to end: out += Σ_k weight_k · expert_k(x), the experts chosen by the gate as
     * {@link #route} chooses them. By default route, then moeExperts; a backend may keep the routing where
     * it was computed (the CUDA backend never copies it to the host for decode-sized batches).
     */
    default void moe(Tensor x, Tensor gate, RouterConfig config, List<ExpertWeights> experts, Tensor out) {
        moeExperts(x, route(x, gate, config), experts, out);
    }

    /**
     * A whole DeepSeekMoE layer: out = Shared(x) + Σ_k weight_k · expert_k(x), where {@code shared} is the shared
     * experts' MLP (width S·moe_intermediate; null when the layer has none) and out holds zeros on entry (the
     * model's freshly allocated output). By default the shared MLP through the dense operations
     * ({@link ExpertWeights#forward}, which writes out), then {@link #moe} adds the routed experts; a backend may
     * fold the shared experts into its routed-expert pass (the CUDA backend's fused decode kernels do).
     */
    default void moe(Tensor x, Tensor gate, RouterConfig config, List<ExpertWeights> experts, ExpertWeights shared,
                     Tensor out) {
        if (shared != null) {
            shared.forward(this, x, out);
        }
        moe(x, gate, config, experts, out);
    }

    @Override
    void close();
}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.cuda.kernels.KernelModule;
import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.DecodeBuckets;
import io.latentserve.model.backend.ExpertWeights;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MatmulPrecision;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The CUDA backend: weights resident in the weight arena (bf16 as stored, f32 otherwise), f32 activations
 * in the activation arena (reset between forward passes, see {@link StepMemory}), the KV cache in f32 in
 * the KV arena, dense GEMMs through cuBLAS ({@link Gemm}), everything else through the kernels of
 * cuda-kernels/, all queued in order on the context's one stream. This class unwraps the Tensors and hands each
 * operation to its part ({@link CudaElementwise}, {@link CudaEmbedding}, {@link Gemm}, {@link CudaAttention},
 * {@link CudaMoe}, {@link CudaRowSampling}), where every shape and limit is checked before launch. At
 * {@link MatmulPrecision#HIGH} (the default) it computes what the CPU backend computes, up to f32 rounding order;
 * at {@link MatmulPrecision#MEDIUM} its prefill-sized tensor-core products take their f32 activations rounded to
 * bf16, as HuggingFace transformers and vLLM run a bf16 model.
 */
public final class CudaBackend extends CudaOps implements Backend {

    private CudaBackend(CudaContext ctx, KernelModule module, boolean graphs, MatmulPrecision precision) {
        super(ctx, module, graphs, precision);
    }

    /**
     * A backend on the context, which it owns from now on (closed by {@link #close()}); forward passes become
     * CUDA graphs with -Dlatentserve.cuda.graphs=true (see {@link StepGraphs}; serve --cuda-graphs passes its
     * choice to {@link #create(CudaContext, boolean, MatmulPrecision)}), the matmul precision is
     * -Dlatentserve.cuda.matmulPrecision's (high unless set).
     */
    public static CudaBackend create(CudaContext ctx) {
        return create(ctx, StepGraphs.enabledByProperty(), MatmulPrecision.fromSystemProperty());
    }

    /** As {@link #create(CudaContext)}, at the given matmul precision (--matmul-precision) whatever is set. */
    public static CudaBackend create(CudaContext ctx, MatmulPrecision precision) {
        return create(ctx, StepGraphs.enabledByProperty(), precision);
    }

    /** As {@link #create(CudaContext)}, with step graphs on or off whatever the property says. */
    public static CudaBackend create(CudaContext ctx, boolean graphs) {
        return create(ctx, graphs, MatmulPrecision.fromSystemProperty());
    }

    /**
     * As {@link #create(CudaContext)}, with step graphs on or off and the given precision of the tensor-core
     * products (--matmul-precision), whatever the properties say.
     */
    public static CudaBackend create(CudaContext ctx, boolean graphs, MatmulPrecision precision) {
        ctx.makeCurrent();
        return new CudaBackend(ctx, KernelModule.load(ctx.driver()), graphs, precision);
    }

    /** The device and the matmul precision: what the startup log and the benchmarks print. */
    @Override
    public String name() {
        return "cuda (" + ctx.device() + ", matmul precision " + gemm.precision() + ")";
    }

    /** How the tensor-core products treat f32 activations ({@link MatmulPrecision}). */
    public MatmulPrecision matmulPrecision() {
        return gemm.precision();
    }

    /**
     * Switches the precision from the next operation on, for benchmarks and tests that put both side by side on
     * one backend (one set of weights); the server fixes it at creation.
     */
    public void matmulPrecision(MatmulPrecision precision) {
        gemm.precision(precision);
    }

    // ---- memory ----

    @Override
    public Tensor weight(TensorView view) {
        return weights.upload(view);
    }

    /** Filled in place on the device: no host copy of the values ever exists. */
    @Override
    public Tensor hashedWeight(String name, long[] shape, HashFill fill, Supplier<TensorView> hostView) {
        return weights.hashed(name, shape, fill, kernels);
    }

    @Override
    public Tensor activation(int rows, int cols) {
        return memory.activation(rows, cols);
    }

    @Override
    public Tensor columns(Tensor activation, int offset, int cols) {
        return act(activation, "columns").columns(offset, cols);
    }

    @Override
    public Tensor rowRange(Tensor activation, int offset, int rows) {
        return act(activation, "rowRange").rowRange(offset, rows);
    }

    @Override
    public KvCache kvCache(int numLayers, int numBlocks, int blockSize, int width, KvCacheDtype dtype) {
        return kvCaches.create(numLayers, numBlocks, blockSize, width, dtype);
    }

    /** Copies the activation to the host; this ends the step (the next activation() resets the arena). */
    @Override
    public float[] toHost(Tensor activation) {
        CudaActivation a = act(activation, "toHost");
        graphs.endPass();
        float[] out = download(a);
        memory.endStep();
        return out;
    }

    /** One copy from the pinned landing buffer straight into each row's array; this ends the step too. */
    @Override
    public float[][] toHostRows(Tensor activation) {
        CudaActivation a = act(activation, "toHostRows");
        graphs.endPass();                // the pass's launches: one graph when it has run before
        float[][] out = downloadRows(a);
        memory.endStep();
        return out;
    }

    @Override
    public boolean samplesRows() {
        return true;
    }

    /** With CUDA graphs, decode batches padded to {@link DecodeBuckets#GRAPHS}: one graph per bucket. */
    @Override
    public DecodeBuckets decodeBuckets() {
        return graphs.enabled() ? DecodeBuckets.GRAPHS : DecodeBuckets.NONE;
    }

    /** The rows with parameters sampled on the device, the others copied to the host ({@link CudaRowSampling}). */
    @Override
    public SampledRows sampleRows(Tensor logits, RowSampling[] sampling) {
        return rowSampling.sampleRows(act(logits, "sampleRows"), sampling);
    }

    /** Every row sampled on the device, the tokens on their way to the host ({@link CudaRowSampling}). */
    @Override
    public PendingRows launchSampleRows(Tensor logits, RowSampling[] sampling, PendingRows previous) {
        return rowSampling.launchSampleRows(act(logits, "launchSampleRows"), sampling, previous);
    }

    // ---- element-wise and dense ----

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        embedding(table, ids, null, out);
    }

    /** Markers of the latest launched pass's tokens gathered on the device ({@link CudaEmbedding}). */
    @Override
    public void embedding(Tensor table, int[] ids, PendingRows previous, Tensor out) {
        embedding.lookup(CudaWeight.of(table, "embedding table"), ids, previous, act(out, "embedding out"));
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        elementwise.rmsNorm(act(x, "rmsNorm x"), null, CudaWeight.of(weight, "rmsNorm weight"), eps,
                act(out, "rmsNorm out"));
    }

    /** Fused residual add and RMSNorm (one ls_rmsnorm launch): residual += x, then out = RMSNorm(residual) · weight. */
    @Override
    public void addRmsNorm(Tensor residual, Tensor x, Tensor weight, float eps, Tensor out) {
        elementwise.rmsNorm(act(residual, "addRmsNorm residual"), act(x, "addRmsNorm x"),
                CudaWeight.of(weight, "rmsNorm weight"), eps, act(out, "addRmsNorm out"));
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor out) {
        gemm.matmul(act(x, "matmul x"), CudaWeight.of(w, "matmul weight"), act(out, "matmul out"));
    }

    @Override
    public void add(Tensor acc, Tensor x) {
        elementwise.add(act(acc, "add acc"), act(x, "add x"));
    }

    @Override
    public void siluMul(Tensor gate, Tensor up, Tensor out) {
        elementwise.siluMul(act(gate, "siluMul gate"), act(up, "siluMul up"), act(out, "siluMul out"));
    }

    @Override
    public void rope(Tensor x, int numHeads, int headStride, int ropeOffset, RopeTable rope, int[] positions) {
        elementwise.rope(act(x, "rope x"), numHeads, headStride, ropeOffset, rope, positions);
    }

    // ---- attention ----

    @Override
    public void writeKvCache(KvCache cache, int layer, Tensor rows, int[] slotMapping) {
        elementwise.writeKvCache(CudaKvCache.of(cache), layer, act(rows, "writeKvCache rows"), slotMapping);
    }

    /** One ls_mla_latent launch for the latent rows' norm, rotation and cache write. */
    @Override
    public void mlaLatentRows(Tensor kv, int kvLoraRank, int ropeDim, Tensor normWeight, float eps, RopeTable rope,
                              int[] positions, KvCache cache, int layer, int[] slotMapping) {
        elementwise.mlaLatentRows(act(kv, "mlaLatentRows kv"), kvLoraRank, ropeDim,
                CudaWeight.of(normWeight, "kv_a_layernorm"), eps, rope, positions, CudaKvCache.of(cache), layer,
                slotMapping);
    }

    @Override
    public void mlaAttention(Tensor q, KvCache cache, int layer, Tensor kvB, MlaShape shape, AttentionBatch batch,
                             MlaMode mode, Tensor out) {
        attention.mla(act(q, "mla q"), CudaKvCache.of(cache), layer, CudaWeight.of(kvB, "kv_b_proj"), shape, batch,
                mode, act(out, "mla out"));
    }

    /**
     * {@link #mlaAttention} with decompressed prefill on ls_mla_prefill_tc (where it takes the shape) or not,
     * whatever -Dlatentserve.cuda.flashPrefill says: benchmarks time both paths side by side.
     */
    public void mlaAttention(Tensor q, KvCache cache, int layer, Tensor kvB, MlaShape shape, AttentionBatch batch,
                             MlaMode mode, Tensor out, boolean flashPrefill) {
        attention.mla(act(q, "mla q"), CudaKvCache.of(cache), layer, CudaWeight.of(kvB, "kv_b_proj"), shape, batch,
                mode, act(out, "mla out"), flashPrefill);
    }

    @Override
    public void gqaAttention(Tensor q, KvCache cache, int layer, int numHeads, int numKvHeads, int headDim, float scale,
                             AttentionBatch batch, Tensor out) {
        attention.gqa(act(q, "gqa q"), CudaKvCache.of(cache), layer, numHeads, numKvHeads, headDim, scale, batch,
                act(out, "gqa out"));
    }

    // ---- mixture of experts ----

    @Override
    public MoeRouting route(Tensor x, Tensor gate, RouterConfig config) {
        return moe.route(act(x, "route x"), CudaWeight.of(gate, "router weight"), config);
    }

    @Override
    public void moeExperts(Tensor x, MoeRouting routing, List<ExpertWeights> experts, Tensor out) {
        moe.experts(act(x, "moe x"), routing, experts, act(out, "moe out"));
    }

    /** Routing and experts without a host round trip for decode-sized batches (see {@link CudaMoe}). */
    @Override
    public void moe(Tensor x, Tensor gate, RouterConfig config, List<ExpertWeights> experts, Tensor out) {
        moe.moe(act(x, "moe x"), CudaWeight.of(gate, "router weight"), config, experts, act(out, "moe out"));
    }

    /** {@link #moe} on a path of the caller's choice (benchmarks put the paths side by side). */
    public void moe(Tensor x, Tensor gate, RouterConfig config, List<ExpertWeights> experts, Tensor out,
                    CudaMoePath path) {
        moe.moe(act(x, "moe x"), CudaWeight.of(gate, "router weight"), config, experts, act(out, "moe out"), path);
    }

    /**
     * The whole MoE layer: shared experts folded into the fused decode kernels' launches where they take the call
     * for batches of up to {@link CudaMoe#FOLD_SHARED_MAX_TOKENS} rows (unless -Dlatentserve.cuda.foldSharedExperts
     * =false), else the shared MLP then the routed experts (see {@link CudaMoe#moeFolded}).
     */
    @Override
    public void moe(Tensor x, Tensor gate, RouterConfig config, List<ExpertWeights> experts, ExpertWeights shared,
                    Tensor out) {
        moe(x, gate, config, experts, shared, out, CudaMoePath.AUTO, CudaMoe.foldShared(x.rows()));
    }

    /**
     * The MoE layer on a path of the caller's choice, the shared experts (null: none) folded into the fused path's
     * launches when {@code foldShared} and that path runs, else run first as a dense MLP as {@link Backend}'s default
     * does (benchmarks time both). out holds zeros on entry.
     */
    public void moe(Tensor x, Tensor gate, RouterConfig config, List<ExpertWeights> experts, ExpertWeights shared,
                    Tensor out, CudaMoePath path, boolean foldShared) {
        if (shared != null && foldShared && moe.moeFolded(act(x, "moe x"), CudaWeight.of(gate, "router weight"),
                config, experts, shared, act(out, "moe out"), path)) {
            return;
        }
        if (shared != null) {
            shared.forward(this, x, out);
        }
        moe(x, gate, config, experts, out, path);
    }

    // ---- beyond the Backend interface ----

    /** Starts a new step now: every activation allocated so far is released (see {@link StepMemory}). */
    @Override
    public void beginForward() {
        memory.beginStep();
        graphs.beginPass();
    }

    /** An activation holding these values, row-major [rows, cols]. */
    public Tensor fromHost(float[] values, int rows, int cols) {
        if (values.length != (long) rows * cols) {
            throw new IllegalArgumentException(values.length + " values for [" + rows + ", " + cols + "]");
        }
        graphs.eager();
        CudaActivation a = memory.activation(rows, cols);
        if (values.length > 0) {
            try (Arena host = Arena.ofConfined()) {
                MemorySegment seg = host.allocate(ValueLayout.JAVA_FLOAT, values.length);
                MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT, 0, values.length);
                ctx.driver().memcpyHtoDAsync(a.address(), seg, seg.byteSize(), ctx.stream());
                ctx.synchronize();
            }
        }
        return a;
    }

    /** One token per row of logits [R, V]: greedy at temperature 0, else top-k / top-p and the given draws. */
    public int[] sample(Tensor logits, double[] temperature, int[] topK, double[] topP, double[] uniform) {
        return rowSampling.sample(act(logits, "sample logits"), temperature, topK, topP, uniform);
    }

    /** The greedy token of each row (highest logit, lowest id on ties). */
    public int[] argmax(Tensor logits) {
        return rowSampling.argmax(act(logits, "sample logits"));
    }

    /** Waits for all queued work (benchmarks time whole launches sequences with it). */
    public void synchronize() {
        graphs.eager();
        ctx.synchronize();
    }

    /**
     * Whether forward passes are recorded and replayed as CUDA graphs (--cuda-graphs, -Dlatentserve.cuda.graphs):
     * false when created without, or since a capture the driver refused turned them off.
     */
    public boolean cudaGraphs() {
        return graphs.enabled();
    }

    /**
     * Switches per-kernel GPU timing on or off ({@link KernelTimes}: two events around every launch and cuBLAS call
     * issued now; not for recorded passes). For the benchmark's profile: it costs host time per launch.
     */
    public void kernelTimes(boolean on) {
        kernels.times().on(on);
    }

    /** {calls, GPU milliseconds} per kernel since the last call, most time first (waits for the stream). */
    public Map<String, double[]> kernelTimesReport() {
        return kernels.times().collect();
    }

    /** Forward passes replayed from a captured CUDA graph, and graphs captured (-Dlatentserve.cuda.graphs). */
    public long[] graphCounts() {
        return new long[]{graphs.replays(), graphs.captures()};
    }

    /** Device memory in use: weights, KV cache and activations (high water), for logs and tests. */
    public String memoryReport() {
        return ctx.weights() + ", " + ctx.kvCache() + ", activations high water "
                + ctx.activations().highWater() + " bytes";
    }
}

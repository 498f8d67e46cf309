package io.latentserve.model.cpu;

import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.ExpertWeights;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.backend.MlaShape;
import io.latentserve.model.backend.MoeRouting;
import io.latentserve.model.backend.RopeTable;
import io.latentserve.model.backend.RouterConfig;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.checkpoint.TensorView;

import java.util.List;

/**
 * The pure-Java backend: Vector API kernels on all cores, weights kept as stored (memory-mapped BF16)
 * and widened on the fly, f32 activations and accumulation. The reference for every other backend.
 */
public final class CpuBackend implements Backend {
    private final Parallel parallel;
    private final MlaAttention mla;
    private final GqaAttention gqa;
    private final MoeCpu moe;

    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public CpuBackend(int threads) {
        this.parallel = new Parallel(threads);
        this.mla = new MlaAttention(parallel);
        this.gqa = new GqaAttention(parallel);
        this.moe = new MoeCpu(parallel);
    }

    @Override
    public String name() {
        return "cpu (" + parallel.threads() + " threads, " + VectorKernels.F.vectorBitSize() + "-bit vectors)";
    }

    public int threads() {
        return parallel.threads();
    }

    @Override
    public Tensor weight(TensorView view) {
        int rows = view.rank() == 1 ? 1 : view.dim(0);
        int cols = view.rank() == 1 ? view.dim(0) : view.dim(1);
        if (view.rank() > 2) {
            throw new IllegalArgumentException("weight " + view.name() + " has rank " + view.rank() + "; expected 1 or 2");
        }
        return new CpuWeight(view.data(), view.dtype(), rows, cols);
    }

    @Override
    public Tensor activation(int rows, int cols) {
        return CpuActivation.allocate(rows, cols);
    }

    @Override
    public Tensor columns(Tensor activation, int offset, int cols) {
        return CpuActivation.of(activation).columns(offset, cols);
    }

    @Override
    public Tensor rowRange(Tensor activation, int offset, int rows) {
        return CpuActivation.of(activation).rowRange(offset, rows);
    }

    @Override
    public KvCache kvCache(int numLayers, int numBlocks, int blockSize, int width, KvCacheDtype dtype) {
        return new CpuKvCache(numLayers, numBlocks, blockSize, width, dtype);
    }

    @Override
    public float[] toHost(Tensor activation) {
        return CpuActivation.of(activation).toArray();
    }

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        Elementwise.embedding(CpuWeight.of(table), ids, CpuActivation.of(out));
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        Elementwise.rmsNorm(CpuActivation.of(x), CpuWeight.of(weight), eps, CpuActivation.of(out));
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor out) {
        Matmul.matmul(parallel, CpuActivation.of(x), CpuWeight.of(w), CpuActivation.of(out));
    }

    /** The scalar reference of {@link #matmul}, for tests of the vectorized kernel. */
    public void matmulScalar(Tensor x, Tensor w, Tensor out) {
        Matmul.scalar(CpuActivation.of(x), CpuWeight.of(w), CpuActivation.of(out));
    }

    @Override
    public void add(Tensor acc, Tensor x) {
        Elementwise.add(CpuActivation.of(acc), CpuActivation.of(x));
    }

    @Override
    public void siluMul(Tensor gate, Tensor up, Tensor out) {
        Elementwise.siluMul(CpuActivation.of(gate), CpuActivation.of(up), CpuActivation.of(out));
    }

    @Override
    public void rope(Tensor x, int numHeads, int headStride, int ropeOffset, RopeTable rope, int[] positions) {
        Elementwise.rope(CpuActivation.of(x), numHeads, headStride, ropeOffset, rope, positions);
    }

    @Override
    public void writeKvCache(KvCache cache, int layer, Tensor rows, int[] slotMapping) {
        CpuKvCache c = CpuKvCache.of(cache);
        CpuActivation r = CpuActivation.of(rows);
        if (r.cols() != c.width() || r.rows() != slotMapping.length) {
            throw new IllegalArgumentException("KV rows [" + r.rows() + ", " + r.cols() + "] do not match cache width "
                    + c.width() + " and " + slotMapping.length + " slots");
        }
        for (int t = 0; t < r.rows(); t++) {
            c.layer(layer).write(c.rowOffset(slotMapping[t]), r.data(), r.index(t, 0), c.width());
        }
    }

    @Override
    public void mlaAttention(Tensor q, KvCache cache, int layer, Tensor kvB, MlaShape shape, AttentionBatch batch,
                             MlaMode mode, Tensor out) {
        mla.run(CpuActivation.of(q), CpuKvCache.of(cache), layer, CpuWeight.of(kvB), shape, batch, mode,
                CpuActivation.of(out));
    }

    @Override
    public void gqaAttention(Tensor q, KvCache cache, int layer, int numHeads, int numKvHeads, int headDim, float scale,
                             AttentionBatch batch, Tensor out) {
        gqa.run(CpuActivation.of(q), CpuKvCache.of(cache), layer, numHeads, numKvHeads, headDim, scale, batch,
                CpuActivation.of(out));
    }

    @Override
    public MoeRouting route(Tensor x, Tensor gate, RouterConfig config) {
        return moe.route(CpuActivation.of(x), CpuWeight.of(gate), config);
    }

    @Override
    public void moeExperts(Tensor x, MoeRouting routing, List<ExpertWeights> experts, Tensor out) {
        moe.experts(CpuActivation.of(x), routing, experts, CpuActivation.of(out));
    }

    @Override
    public void close() {
        parallel.shutdown();
    }
}

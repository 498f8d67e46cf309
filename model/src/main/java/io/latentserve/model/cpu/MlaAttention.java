package io.latentserve.model.cpu;

import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.backend.MlaShape;

/**
 * MLA attention over the paged latent cache (MODEL_SPEC 3.1 and 3.3). Cache rows are
 * [c̃ (kvLoraRank) ; k̃_pe (qkRopeHeadDim)]; kv_b_proj rows of head h are W_UK_h (dn rows) then W_UV_h (dv rows).
 */
final class MlaAttention {
    private final Parallel parallel;

    MlaAttention(Parallel parallel) {
        this.parallel = parallel;
    }

    void run(CpuActivation q, CpuKvCache cache, int layer, CpuWeight kvB, MlaShape shape, AttentionBatch batch,
             MlaMode mode, CpuActivation out) {
        checkShapes(q, cache, kvB, shape, out);
        for (int s = 0; s < batch.numSeqs(); s++) {
            int first = batch.seqStarts()[s];
            int count = batch.seqStarts()[s + 1] - first;
            if (count == 0) {
                continue;
            }
            boolean absorbed = mode.absorbs(count, batch.contextLength(s));
            if (absorbed) {
                absorbed(q, cache, layer, kvB, shape, batch, s, first, count, out);
            } else {
                decompressed(q, cache, layer, kvB, shape, batch, s, first, count, out);
            }
        }
    }

    private static void checkShapes(CpuActivation q, CpuKvCache cache, CpuWeight kvB, MlaShape sh, CpuActivation out) {
        if (q.cols() != sh.numHeads() * sh.qkHeadDim() || out.cols() != sh.numHeads() * sh.vHeadDim()
                || cache.width() != sh.cacheWidth() || kvB.cols() != sh.kvLoraRank()
                || kvB.rows() != sh.numHeads() * (sh.qkNopeHeadDim() + sh.vHeadDim()) || q.rows() != out.rows()) {
            throw new IllegalArgumentException("MLA attention shapes do not match " + sh);
        }
    }

    /** Decompress k_nope and v for the whole context through kv_b_proj, then attend per head. */
    private void decompressed(CpuActivation q, CpuKvCache cache, int layer, CpuWeight kvB, MlaShape sh,
                              AttentionBatch batch, int seq, int first, int count, CpuActivation out) {
        int context = batch.contextLength(seq);
        int r = sh.kvLoraRank();
        int dr = sh.qkRopeHeadDim();
        KvRows rows = cache.layer(layer);
        CpuActivation latent = CpuActivation.allocate(context, r);   // [context, r] f32
        float[] kPe = new float[context * dr];                       // [context, dr] f32
        for (int p = 0; p < context; p++) {
            int off = cache.rowOffset(batch.slot(seq, p));
            rows.read(off, latent.data(), p * r, r);     // widened to f32 (exact)
            rows.read(off + r, kPe, p * dr, dr);
        }
        int kvWidth = sh.qkNopeHeadDim() + sh.vHeadDim();
        CpuActivation kv = CpuActivation.allocate(context, sh.numHeads() * kvWidth); // [context, H·(dn+dv)]
        Matmul.matmul(parallel, latent, kvB, kv);
        int heads = sh.numHeads();
        parallel.forRange(count * heads, 1, (from, to) -> {
            float[] scores = new float[context];
            for (int i = from; i < to; i++) {
                int t = first + i / heads;
                int h = i % heads;
                attendDecompressed(q, kv, kPe, sh, t, h, batch.positions()[t], scores, out);
            }
        });
    }

    private static void attendDecompressed(CpuActivation q, CpuActivation kv, float[] kPe, MlaShape sh, int t, int h,
                                           int pos, float[] scores, CpuActivation out) {
        int dn = sh.qkNopeHeadDim();
        int dr = sh.qkRopeHeadDim();
        int dv = sh.vHeadDim();
        int kvWidth = dn + dv;
        int qOff = q.index(t, h * sh.qkHeadDim());
        int n = pos + 1;
        for (int s = 0; s < n; s++) {
            float dot = VectorKernels.dot(q.data(), qOff, kv.data(), kv.index(s, h * kvWidth), dn)
                    + VectorKernels.dot(q.data(), qOff + dn, kPe, s * dr, dr);
            scores[s] = dot * sh.softmaxScale();
        }
        Softmax.inPlace(scores, n);
        int oOff = out.index(t, h * dv);
        java.util.Arrays.fill(out.data(), oOff, oOff + dv, 0f);
        for (int s = 0; s < n; s++) {
            VectorKernels.axpy(scores[s], kv.data(), kv.index(s, h * kvWidth + dn), out.data(), oOff, dv);
        }
    }

    /** Fold W_UK into the query, attend over the shared latent rows, apply W_UV afterwards. */
    private void absorbed(CpuActivation q, CpuKvCache cache, int layer, CpuWeight kvB, MlaShape sh,
                          AttentionBatch batch, int seq, int first, int count, CpuActivation out) {
        int heads = sh.numHeads();
        parallel.forRange(count * heads, 1, (from, to) -> {
            float[] qLatent = new float[sh.kvLoraRank()];   // [r] f32
            float[] oLatent = new float[sh.kvLoraRank()];   // [r] f32
            float[] scores = new float[batch.contextLength(seq)];
            for (int i = from; i < to; i++) {
                int t = first + i / heads;
                int h = i % heads;
                attendAbsorbed(q, cache, layer, kvB, sh, batch, seq, t, h, qLatent, oLatent, scores, out);
            }
        });
    }

    private static void attendAbsorbed(CpuActivation q, CpuKvCache cache, int layer, CpuWeight kvB, MlaShape sh,
                                       AttentionBatch batch, int seq, int t, int h, float[] qLatent, float[] oLatent,
                                       float[] scores, CpuActivation out) {
        int dn = sh.qkNopeHeadDim();
        int r = sh.kvLoraRank();
        int dr = sh.qkRopeHeadDim();
        int dv = sh.vHeadDim();
        int ukRow = h * (dn + dv);
        int qOff = q.index(t, h * sh.qkHeadDim());
        java.util.Arrays.fill(qLatent, 0f);
        for (int j = 0; j < dn; j++) {           // q̂ = W_UK_hᵀ · q_nope_h
            kvB.axpyRow(ukRow + j, q.data()[qOff + j], qLatent, 0);
        }
        KvRows rows = cache.layer(layer);   // resolved once: no per-element dtype branch below
        int n = batch.positions()[t] + 1;
        for (int s = 0; s < n; s++) {
            int off = cache.rowOffset(batch.slot(seq, s));
            float dot = rows.dot(qLatent, 0, off, r) + rows.dot(q.data(), qOff + dn, off + r, dr);
            scores[s] = dot * sh.softmaxScale();
        }
        Softmax.inPlace(scores, n);
        java.util.Arrays.fill(oLatent, 0f);
        for (int s = 0; s < n; s++) {            // ô = Σ p_s · c̃_s
            rows.axpy(scores[s], cache.rowOffset(batch.slot(seq, s)), oLatent, 0, r);
        }
        int oOff = out.index(t, h * dv);
        for (int i = 0; i < dv; i++) {           // o_h = W_UV_h · ô
            out.data()[oOff + i] = kvB.dotRow(ukRow + dn + i, oLatent, 0);
        }
    }
}

package io.latentserve.model.cpu;

import io.latentserve.model.backend.AttentionBatch;

import java.util.Arrays;

/** Causal attention with grouped KV heads over a paged cache whose rows are [K (kvHeads·hd) ; V (kvHeads·hd)]. */
final class GqaAttention {
    private final Parallel parallel;

    GqaAttention(Parallel parallel) {
        this.parallel = parallel;
    }

    void run(CpuActivation q, CpuKvCache cache, int layer, int heads, int kvHeads, int headDim, float scale,
             AttentionBatch batch, CpuActivation out) {
        if (q.cols() != heads * headDim || out.cols() != heads * headDim || cache.width() != 2 * kvHeads * headDim
                || heads % kvHeads != 0) {
            throw new IllegalArgumentException("GQA attention shapes do not match: heads " + heads + ", kv heads "
                    + kvHeads + ", head dim " + headDim);
        }
        int group = heads / kvHeads;
        KvRows rows = cache.layer(layer);   // resolved once: no per-element dtype branch below
        int[] seqOf = new int[batch.numTokens()];
        for (int s = 0; s < batch.numSeqs(); s++) {
            Arrays.fill(seqOf, batch.seqStarts()[s], batch.seqStarts()[s + 1], s);
        }
        parallel.forRange(batch.numTokens() * heads, 1, (from, to) -> {
            float[] scores = new float[0];
            for (int i = from; i < to; i++) {
                int t = i / heads;
                int h = i % heads;
                int seq = seqOf[t];
                int n = batch.positions()[t] + 1;
                if (scores.length < n) {
                    scores = new float[n];
                }
                int kOff = (h / group) * headDim;
                int vOff = kvHeads * headDim + kOff;
                int qOff = q.index(t, h * headDim);
                for (int s = 0; s < n; s++) {
                    int row = cache.rowOffset(batch.slot(seq, s));
                    scores[s] = rows.dot(q.data(), qOff, row + kOff, headDim) * scale;
                }
                Softmax.inPlace(scores, n);
                int oOff = out.index(t, h * headDim);
                Arrays.fill(out.data(), oOff, oOff + headDim, 0f);
                for (int s = 0; s < n; s++) {
                    rows.axpy(scores[s], cache.rowOffset(batch.slot(seq, s)) + vOff, out.data(), oOff, headDim);
                }
            }
        });
    }
}

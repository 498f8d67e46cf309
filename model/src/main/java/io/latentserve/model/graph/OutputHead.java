package io.latentserve.model.graph;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.PendingRows;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.config.ModelConfig;

/** The final norm and lm_head (tied to the embeddings when the config says so and the checkpoint has none). */
record OutputHead(RmsNorm finalNorm, Tensor lmHead, int vocab) {

    static OutputHead load(Weights w, ModelConfig c, Tensor embedTokens) {
        int d = c.hiddenSize();
        Tensor lmHead = c.tieWordEmbeddings() && !w.has("lm_head.weight")
                ? embedTokens : w.get("lm_head.weight", c.vocabSize(), d); // [V, D]
        return new OutputHead(RmsNorm.load(w, "model.norm.weight", d, c.rmsNormEps()), lmHead, c.vocabSize());
    }

    /** f32 logits [rows.length][vocab] of the chosen rows of the residual stream h [T, D]. */
    float[][] logits(Backend b, Tensor h, int[] rows) {
        return b.toHostRows(deviceLogits(b, h, rows));
    }

    /** The chosen rows' tokens where the backend samples them (sampling[i] given), else their logits on the host. */
    SampledRows sample(Backend b, Tensor h, int[] rows, RowSampling[] sampling) {
        return b.sampleRows(deviceLogits(b, h, rows), sampling);
    }

    /** As {@link #sample}, through {@link Backend#launchSampleRows}: the tokens may arrive later. */
    PendingRows launch(Backend b, Tensor h, int[] rows, RowSampling[] sampling, PendingRows previous) {
        return b.launchSampleRows(deviceLogits(b, h, rows), sampling, previous);
    }

    private Tensor deviceLogits(Backend b, Tensor h, int[] rows) {
        int d = h.cols();
        Tensor picked = b.activation(rows.length, d);            // [R, D] f32
        for (int i = 0; i < rows.length; i++) {
            b.add(b.rowRange(picked, i, 1), b.rowRange(h, rows[i], 1));
        }
        finalNorm.apply(b, picked, picked);
        Tensor logits = b.activation(rows.length, vocab);        // [R, V] f32
        b.matmul(picked, lmHead, logits);
        return logits;
    }
}

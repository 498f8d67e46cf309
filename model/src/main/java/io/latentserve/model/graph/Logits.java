package io.latentserve.model.graph;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.Tensor;

/** The final norm and lm_head, computed only for the rows whose logits are wanted. */
final class Logits {
    private Logits() {
    }

    static float[][] compute(Backend b, Tensor h, int[] rows, RmsNorm finalNorm, Tensor lmHead, int vocab) {
        int d = h.cols();
        Tensor picked = b.activation(rows.length, d);            // [R, D] f32
        for (int i = 0; i < rows.length; i++) {
            b.add(b.rowRange(picked, i, 1), b.rowRange(h, rows[i], 1));
        }
        finalNorm.apply(b, picked, picked);
        Tensor logits = b.activation(rows.length, vocab);        // [R, V] f32
        b.matmul(picked, lmHead, logits);
        float[] flat = b.toHost(logits);
        float[][] out = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            out[i] = java.util.Arrays.copyOfRange(flat, i * vocab, (i + 1) * vocab);
        }
        return out;
    }
}

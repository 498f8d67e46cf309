package io.latentserve.cuda.backend;

import io.latentserve.model.backend.MlaShape;

/**
 * Decompressed MLA prefill of one sequence in f64 (MODEL_SPEC 3.1): k_nope | v = W_kvb · latent per context
 * row, causal softmax(q · [k_nope | k_rope] · scale), out = P · v. With rounded, every operand of a
 * tensor-core product is first rounded to bf16 (nearest even) where --matmul-precision medium rounds it: the
 * latent rows (input of the kv_b_proj GEMM, whose f32 result is kept), q, k_nope, k_rope, v and the f32
 * probabilities P. Everything else (sums, softmax) is f64.
 */
final class MlaPrefillReference {
    private MlaPrefillReference() {
    }

    /**
     * @param q      [count, H·(dn+dr)] f32 queries of the new tokens (positions prefix .. prefix+count-1)
     * @param cache  [prefix+count, r+dr] f32 cache rows: latent | k_rope
     * @param w      [H·(dn+dv), r] kv_b_proj, bf16 values
     * @return [count, H·dv]
     */
    static float[] of(MlaShape sh, float[] q, float[] cache, float[] w, int prefix, int count, boolean rounded) {
        int h = sh.numHeads();
        int dn = sh.qkNopeHeadDim();
        int dr = sh.qkRopeHeadDim();
        int dv = sh.vHeadDim();
        int r = sh.kvLoraRank();
        int width = sh.cacheWidth();
        int ctx = prefix + count;
        int kvWidth = h * (dn + dv);
        float[] kv = new float[ctx * kvWidth];   // f32, as the GEMM writes it
        for (int p = 0; p < ctx; p++) {
            for (int j = 0; j < kvWidth; j++) {
                double acc = 0;
                for (int l = 0; l < r; l++) {
                    acc += (double) round(cache[p * width + l], rounded) * w[j * r + l];
                }
                kv[p * kvWidth + j] = (float) acc;
            }
        }
        float[] out = new float[count * h * dv];
        double[] scores = new double[ctx];
        for (int i = 0; i < count; i++) {
            int keys = prefix + i + 1;
            for (int hh = 0; hh < h; hh++) {
                int qBase = i * h * (dn + dr) + hh * (dn + dr);
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p < keys; p++) {
                    double s = 0;
                    for (int d = 0; d < dn; d++) {
                        s += (double) round(q[qBase + d], rounded) * round(kv[p * kvWidth + hh * (dn + dv) + d], rounded);
                    }
                    for (int d = 0; d < dr; d++) {
                        s += (double) round(q[qBase + dn + d], rounded) * round(cache[p * width + r + d], rounded);
                    }
                    scores[p] = s * sh.softmaxScale();
                    max = Math.max(max, scores[p]);
                }
                double sum = 0;
                for (int p = 0; p < keys; p++) {
                    scores[p] = Math.exp(scores[p] - max);
                    sum += scores[p];
                }
                for (int d = 0; d < dv; d++) {
                    double acc = 0;
                    for (int p = 0; p < keys; p++) {
                        float prob = (float) (scores[p] / sum);
                        acc += (double) round(prob, rounded) * round(kv[p * kvWidth + hh * (dn + dv) + dn + d], rounded);
                    }
                    out[i * h * dv + hh * dv + d] = (float) acc;
                }
            }
        }
        return out;
    }

    private static float round(float v, boolean rounded) {
        return rounded ? GpuBackends.roundBf16(v) : v;
    }
}

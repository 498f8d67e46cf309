package io.latentserve.server.engine.sample;

import java.util.ArrayList;
import java.util.List;

/**
 * Log-probabilities under the raw model distribution (what vLLM reports by default): log-softmax
 * of the unprocessed logits, computed in double precision.
 */
final class Logprobs {
    private Logprobs() {
    }

    /** log(sum(exp(logits))), shifted by the maximum so that nothing overflows; scratch holds >= V doubles. */
    static double logNormalizer(float[] logits, double[] scratch) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            scratch[i] = logits[i];
            max = Math.max(max, scratch[i]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            return max;
        }
        return max + Math.log(VectorMath.expShifted(scratch, logits.length, max, scratch));
    }

    /** The chosen token with its logprob and the {@code wanted} most likely tokens; no logprobs when wanted < 0. */
    static SampledToken describe(float[] logits, int tokenId, int wanted, double[] scratch) {
        if (wanted < 0) {
            return new SampledToken(tokenId, Float.NaN, List.of());
        }
        double logZ = logNormalizer(logits, scratch);
        int[] best = topIds(logits, wanted);
        List<TopLogprob> top = new ArrayList<>(best.length);
        for (int id : best) {
            top.add(new TopLogprob(id, (float) (logits[id] - logZ)));
        }
        return new SampledToken(tokenId, (float) (logits[tokenId] - logZ), top);
    }

    // The n largest logits, largest first, lower id first on ties: one pass with a small sorted buffer.
    static int[] topIds(float[] logits, int n) {
        n = Math.min(n, logits.length);
        int[] ids = new int[n];
        int size = 0;
        for (int i = 0; i < logits.length; i++) {
            if (size == n && (n == 0 || !(logits[i] > logits[ids[n - 1]]))) {
                continue;
            }
            int j = size < n ? size++ : n - 1;
            while (j > 0 && logits[i] > logits[ids[j - 1]]) {
                ids[j] = ids[j - 1];
                j--;
            }
            ids[j] = i;
        }
        return ids;
    }
}

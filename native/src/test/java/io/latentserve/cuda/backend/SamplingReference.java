package io.latentserve.cuda.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The rules of ls_sample written plainly (they are the server Sampler's for temperature, top-k and top-p):
 * processed = logit / temperature in f64, weights exp(processed − max); top-k keeps the k best (higher
 * logit, then lower id), top-p the shortest best-first prefix holding topP of the kept mass; the draw walks
 * the candidates best first (id order when nothing was truncated) until the uniform's share is passed.
 */
final class SamplingReference {
    private SamplingReference() {
    }

    static int sample(float[] logits, double temperature, int topK, double topP, double uniform) {
        List<Integer> finite = new ArrayList<>();
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] > Float.NEGATIVE_INFINITY) {
                finite.add(i);
            }
        }
        Comparator<Integer> rank = (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a])
                : Integer.compare(a, b);
        if (temperature < 1e-5) {
            return finite.stream().min(rank).orElseThrow();
        }
        double inv = 1 / temperature;
        double max = Double.NEGATIVE_INFINITY;
        for (int i : finite) {
            max = Math.max(max, logits[i] * inv);
        }
        double[] w = new double[logits.length];
        for (int i : finite) {
            w[i] = Math.exp(logits[i] * inv - max);
        }
        List<Integer> candidates = finite;
        boolean ordered = false;
        if (topK > 0 && topK < finite.size()) {
            candidates = new ArrayList<>(finite);
            candidates.sort(rank);
            candidates = candidates.subList(0, topK);
            ordered = true;
        }
        if (topP < 1) {
            if (!ordered) {
                candidates = new ArrayList<>(candidates);
                candidates.sort(rank);
                ordered = true;
            }
            double mass = 0;
            for (int i : candidates) {
                mass += w[i];
            }
            double cumulative = 0;
            int m = 0;
            while (m < candidates.size() && cumulative < topP * mass) {
                cumulative += w[candidates.get(m++)];
            }
            candidates = candidates.subList(0, m);
        }
        double total = 0;
        for (int i : candidates) {
            total += w[i];
        }
        double u = uniform * total;
        int lastPositive = candidates.getFirst();
        for (int i : candidates) {
            if (w[i] > 0) {
                lastPositive = i;
                u -= w[i];
                if (u < 0) {
                    return i;
                }
            }
        }
        return lastPositive;
    }
}

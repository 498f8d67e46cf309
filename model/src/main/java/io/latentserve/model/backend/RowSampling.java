package io.latentserve.model.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How a backend turns one row of logits into a token itself ({@link Backend#sampleRows}), so that the row
 * never leaves the device: the logit edits (bias and penalties, {@link LogitEdits}), then greedy, or
 * temperature, top-k, top-p and an inverse-CDF draw of a uniform the caller drew from the request's own
 * generator. These are the server Sampler's rules for a request with min-p 0 and no logprobs; {@link #sample}
 * writes them plainly and is the reference that device samplers and the host Sampler are both tested against.
 *
 * @param temperature 0..2; below {@link #GREEDY_TEMPERATURE} the row is greedy (argmax, lowest id on ties)
 * @param topK        the k best are kept; 0 or below keeps every token
 * @param topP        (0, 1]: the shortest best-first prefix holding at least topP of the kept mass; 1 keeps all
 * @param uniform     [0, 1): the draw (ignored when greedy)
 * @param edits       applied to the logits first ({@link LogitEdits#NONE} for none; null means none)
 */
public record RowSampling(double temperature, int topK, double topP, double uniform, LogitEdits edits) {
    /** As SamplingParams: temperatures below this are greedy. */
    public static final double GREEDY_TEMPERATURE = 1e-5;

    public RowSampling {
        if (!(temperature >= 0 && temperature <= 2) || !(topP > 0 && topP <= 1) || !(uniform >= 0 && uniform < 1)) {
            throw new IllegalArgumentException("row sampling needs temperature in [0, 2], top-p in (0, 1] and a "
                    + "uniform in [0, 1); got " + temperature + ", " + topP + ", " + uniform);
        }
        topK = Math.max(topK, 0);
        edits = edits == null ? LogitEdits.NONE : edits;
    }

    /** Without logit edits. */
    public RowSampling(double temperature, int topK, double topP, double uniform) {
        this(temperature, topK, topP, uniform, LogitEdits.NONE);
    }

    public static RowSampling greedy() {
        return new RowSampling(0, 0, 1, 0);
    }

    public boolean isGreedy() {
        return temperature < GREEDY_TEMPERATURE;
    }

    /** The same rules with these logit edits. */
    public RowSampling withEdits(LogitEdits logitEdits) {
        return new RowSampling(temperature, topK, topP, uniform, logitEdits);
    }

    /**
     * The token these rules choose from one row of logits: the edits first (on a copy), then processed =
     * logit · (1 / temperature) in f64 (unscaled at temperature 1), weights exp(processed − max); top-k keeps
     * the k best (higher logit, then lower id), then top-p the shortest best-first prefix whose running sum reaches topP · (kept mass);
     * the draw walks the candidates best first (in id order when neither truncates), subtracting each
     * positive weight from uniform · total until it goes below 0, else ends on the last positive one.
     * -inf logits never take part; a NaN or +inf logit (before the edits) is a broken model
     * (IllegalArgumentException).
     */
    public int sample(float[] raw) {
        return sample(raw, -1);
    }

    /**
     * As {@link #sample(float[])}, for edits with a {@link LogitEdits#pendingRow}: pendingToken is the previous
     * pass's token of that row (see {@link LogitEdits#apply(float[], int)}).
     */
    public int sample(float[] raw, int pendingToken) {
        if (edits.pendingRow() >= 0 && pendingToken < 0) {
            throw new IllegalStateException("these edits count the previous pass's token of row "
                    + edits.pendingRow() + ": give it");
        }
        for (int i = 0; i < raw.length; i++) {
            if (Float.isNaN(raw[i]) || raw[i] == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("logit of token " + i + " is " + raw[i] + ": the model output is broken");
            }
        }
        float[] logits = edits.isEmpty() ? raw : edited(raw, pendingToken);
        List<Integer> finite = new ArrayList<>();
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] > Float.NEGATIVE_INFINITY) {
                finite.add(i);
            }
        }
        if (finite.isEmpty()) {
            throw new IllegalStateException("no token can be sampled: every logit is -inf");
        }
        Comparator<Integer> rank = (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a])
                : Integer.compare(a, b);
        if (isGreedy()) {
            return finite.stream().min(rank).orElseThrow();
        }
        double inv = temperature == 1 ? 1 : 1 / temperature;
        double max = Double.NEGATIVE_INFINITY;
        for (int i : finite) {
            max = Math.max(max, logits[i] * inv);
        }
        double[] w = new double[logits.length];
        for (int i : finite) {
            w[i] = Math.exp(logits[i] * inv - max);
        }
        List<Integer> candidates = finite;
        if (topK > 0 && topK < finite.size()) {
            candidates = new ArrayList<>(finite);
            candidates.sort(rank);
            candidates = candidates.subList(0, topK);
        } else if (topP < 1) {
            candidates = new ArrayList<>(finite);
            candidates.sort(rank);
        }
        if (topP < 1) {
            candidates = nucleus(candidates, w);
        }
        return draw(candidates, w);
    }

    private float[] edited(float[] raw, int pendingToken) {
        float[] copy = raw.clone();
        edits.apply(copy, pendingToken);
        return copy;
    }

    private List<Integer> nucleus(List<Integer> ordered, double[] w) {
        double mass = 0;
        for (int i : ordered) {
            mass += w[i];
        }
        double cumulative = 0;
        int m = 0;
        while (m < ordered.size() && cumulative < topP * mass) {
            cumulative += w[ordered.get(m++)];
        }
        return ordered.subList(0, m);
    }

    private int draw(List<Integer> candidates, double[] w) {
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
        return lastPositive; // u reached the total through rounding
    }
}

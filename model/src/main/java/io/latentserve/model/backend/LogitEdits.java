package io.latentserve.model.backend;

import java.util.Arrays;
import java.util.BitSet;

/**
 * The edits the server's sampler makes to one row of logits before temperature and truncation, for a backend
 * that samples the row itself ({@link RowSampling#edits}): the logit bias, then the repetition penalty (as
 * HuggingFace: once per distinct token of prompt and output, dividing a positive logit, multiplying a negative
 * one), then the presence and frequency penalties (as OpenAI: over the output tokens). Each entry names one
 * distinct token. Every stage computes in f64 from the f32 logit and rounds its result to f32, so that a device
 * applying the same stages to its f32 logits gets the same bits; {@link #apply} is the rule, and the host
 * Sampler's stages are these same functions ({@link #biased}, {@link #repeated}, {@link #penalized}).
 *
 * @param tokens            distinct token ids, each at least 0 (and below the vocabulary: checked by apply)
 * @param bias              per entry, added to the logit; -100 or below bans the token (-inf); 0 for none
 * @param generated         per entry, the token's occurrences among the generated tokens
 * @param seen              per entry, whether the token is in the prompt or generated (the repetition penalty's
 *                          set); true wherever generated is above 0
 * @param repetitionPenalty above 0; 1 for none
 * @param presencePenalty   subtracted once from each generated token's logit
 * @param frequencyPenalty  subtracted per occurrence from each generated token's logit
 * @param pendingRow        -1, or the logit row of the previous launched pass whose token is one more generated
 *                          token of this request, not on the host yet (async scheduling: the token this pass's
 *                          input names by {@link PendingRows#marker}); the backend that resolves the marker
 *                          folds it in as {@link #apply(float[], int)} does
 */
public record LogitEdits(int[] tokens, float[] bias, int[] generated, boolean[] seen, double repetitionPenalty,
                         double presencePenalty, double frequencyPenalty, int pendingRow) {
    /** The API promises that this bias bans a token: adding it would not when a logit leads by more. */
    public static final float BAN = -100f;
    public static final LogitEdits NONE = new LogitEdits(new int[0], new float[0], new int[0], new boolean[0], 1, 0, 0);

    /** Edits whose generated tokens are all on the host. */
    public LogitEdits(int[] tokens, float[] bias, int[] generated, boolean[] seen, double repetitionPenalty,
                      double presencePenalty, double frequencyPenalty) {
        this(tokens, bias, generated, seen, repetitionPenalty, presencePenalty, frequencyPenalty, -1);
    }

    public LogitEdits {
        int n = tokens.length;
        if (bias.length != n || generated.length != n || seen.length != n) {
            throw new IllegalArgumentException("logit edits need one bias, count and seen flag per token: " + n
                    + " tokens, " + bias.length + " biases, " + generated.length + " counts, " + seen.length + " flags");
        }
        if (!(repetitionPenalty > 0) || !Double.isFinite(repetitionPenalty) || !Double.isFinite(presencePenalty)
                || !Double.isFinite(frequencyPenalty)) {
            throw new IllegalArgumentException("penalties must be finite and the repetition penalty above 0: "
                    + repetitionPenalty + ", " + presencePenalty + ", " + frequencyPenalty);
        }
        if (pendingRow < -1) {
            throw new IllegalArgumentException("pending row " + pendingRow);
        }
        for (int i = 0; i < n; i++) {
            if (tokens[i] < 0 || generated[i] < 0 || generated[i] > 0 && !seen[i] || !Float.isFinite(bias[i])) {
                throw new IllegalArgumentException("logit edit " + i + ": token " + tokens[i] + ", bias " + bias[i]
                        + ", generated " + generated[i] + ", seen " + seen[i]);
            }
        }
        BitSet distinct = new BitSet();
        for (int token : tokens) {
            if (distinct.get(token)) {
                throw new IllegalArgumentException("token " + token + " has two logit edits");
            }
            distinct.set(token);
        }
    }

    public int size() {
        return tokens.length;
    }

    /** No edit at all: nothing to apply. */
    public boolean isEmpty() {
        return tokens.length == 0 && pendingRow < 0;
    }

    /** The same edits with the previous launched pass's token of logit row row as one more generated token. */
    public LogitEdits withPendingRow(int row) {
        if (row < 0) {
            throw new IllegalArgumentException("pending row " + row);
        }
        return new LogitEdits(tokens, bias, generated, seen, repetitionPenalty, presencePenalty, frequencyPenalty, row);
    }

    /** Edits the logits of every entry's token in place (edits with no pending token). */
    public void apply(float[] logits) {
        if (pendingRow >= 0) {
            throw new IllegalStateException("these edits count the token of the previous pass's row " + pendingRow
                    + ", which apply(logits, pendingToken) must be given");
        }
        apply(logits, -1);
    }

    /**
     * Edits the logits in place, pendingToken (the previous pass's token of {@link #pendingRow}; ignored without
     * one) counting as one more generated token: {@link #resolved}'s edits.
     */
    public void apply(float[] logits, int pendingToken) {
        LogitEdits e = pendingRow >= 0 ? resolved(pendingToken) : this;
        for (int i = 0; i < e.tokens.length; i++) {
            if (e.tokens[i] >= logits.length) {
                throw new IllegalArgumentException("logit edit for token " + e.tokens[i] + " outside the vocabulary 0.."
                        + (logits.length - 1));
            }
        }
        for (int i = 0; i < e.tokens.length; i++) {
            logits[e.tokens[i]] = edit(logits[e.tokens[i]], e.bias[i], e.generated[i], e.seen[i]);
        }
    }

    /**
     * These edits with the pending token known: its entry with one more occurrence and seen, or a new entry (no
     * bias, generated once) when it has none; no pending row. For a backend that has the token on the host.
     */
    public LogitEdits resolved(int pendingToken) {
        if (pendingRow < 0) {
            return this;
        }
        if (pendingToken < 0) {
            throw new IllegalArgumentException("pending token " + pendingToken);
        }
        int n = tokens.length;
        int at = 0;
        while (at < n && tokens[at] != pendingToken) {
            at++;
        }
        int size = at < n ? n : n + 1;
        int[] t = Arrays.copyOf(tokens, size);
        float[] b = Arrays.copyOf(bias, size);
        int[] g = Arrays.copyOf(generated, size);
        boolean[] v = Arrays.copyOf(seen, size);
        t[at] = pendingToken;
        g[at]++;
        v[at] = true;
        return new LogitEdits(t, b, g, v, repetitionPenalty, presencePenalty, frequencyPenalty);
    }

    /** A token's logit after every stage, for its bias, generated count and seen flag. */
    public float edit(float logit, float tokenBias, int tokenGenerated, boolean tokenSeen) {
        float v = tokenBias != 0 ? biased(logit, tokenBias) : logit;
        if (repetitionPenalty != 1 && tokenSeen) {
            v = repeated(v, repetitionPenalty);
        }
        if (tokenGenerated > 0 && (presencePenalty != 0 || frequencyPenalty != 0)) {
            v = penalized(v, tokenGenerated, presencePenalty, frequencyPenalty);
        }
        return v;
    }

    /** The bias stage: logit + bias, or -inf for a bias of {@link #BAN} or below. */
    public static float biased(float logit, float bias) {
        return bias <= BAN ? Float.NEGATIVE_INFINITY : (float) ((double) logit + bias);
    }

    /** The repetition stage: a positive logit divided by the penalty, any other multiplied by it. */
    public static float repeated(float logit, double penalty) {
        return (float) (logit > 0 ? logit / penalty : logit * penalty);
    }

    /** The presence / frequency stage for a token generated count times (count above 0). */
    public static float penalized(float logit, int count, double presence, double frequency) {
        return (float) (logit - (frequency * count + presence));
    }
}

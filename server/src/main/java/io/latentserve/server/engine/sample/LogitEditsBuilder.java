package io.latentserve.server.engine.sample;

import io.latentserve.model.backend.LogitEdits;

import java.util.Arrays;
import java.util.Map;

/**
 * A request's {@link LogitEdits} for one step: its logit bias and, over its token history, the repetition
 * penalty's set (prompt and generated tokens) and the generated counts (presence and frequency penalties); the
 * edits the {@link LogitsProcessor} would make, for a backend that samples the row itself. Work is proportional to
 * the bias plus the history; scratch indexed by token id makes it allocation-free but for the result.
 *
 * <p>Not thread-safe: one per engine loop.
 */
public final class LogitEditsBuilder {
    private int[] stamp = new int[0];   // stamp[token] == current: token has entry index[token] in this call
    private int[] index = new int[0];
    private int current;
    private int size;
    private int[] tokens = new int[16];
    private float[] bias = new float[16];
    private int[] generated = new int[16];
    private boolean[] seen = new boolean[16];

    /** The edits of a request with these params and this history (LogitEdits.NONE when it has none). */
    public LogitEdits build(SamplingParams p, TokenHistory history) {
        boolean repetition = p.repetitionPenalty() != 1;
        boolean presenceFrequency = p.presencePenalty() != 0 || p.frequencyPenalty() != 0;
        if (p.logitBias().isEmpty() && !repetition && !presenceFrequency) {
            return LogitEdits.NONE;
        }
        nextCall();
        for (Map.Entry<Integer, Float> e : p.logitBias().entrySet()) {
            int i = entry(e.getKey());   // first: entry() may grow the arrays
            bias[i] = e.getValue();
        }
        int[] h = history.tokens();
        if (repetition) {
            for (int i = 0; i < history.length(); i++) {
                int e = entry(h[i]);
                seen[e] = true;
            }
        }
        if (presenceFrequency) {
            for (int i = history.promptLength(); i < history.length(); i++) {
                int e = entry(h[i]);
                generated[e]++;
                seen[e] = true;
            }
        }
        return new LogitEdits(Arrays.copyOf(tokens, size), Arrays.copyOf(bias, size), Arrays.copyOf(generated, size),
                Arrays.copyOf(seen, size), p.repetitionPenalty(), p.presencePenalty(), p.frequencyPenalty());
    }

    private void nextCall() {
        size = 0;
        if (++current == Integer.MAX_VALUE) {   // wrapped after ~2^31 calls: start the stamps over
            Arrays.fill(stamp, 0);
            current = 1;
        }
    }

    /** The entry of token, added (zeroed) on its first use in this call. */
    private int entry(int token) {
        if (token < 0) {
            throw new IllegalArgumentException("token id " + token + " cannot have a logit edit");
        }
        if (token >= stamp.length) {
            int n = Math.max(token + 1, 2 * stamp.length);
            stamp = Arrays.copyOf(stamp, n);
            index = Arrays.copyOf(index, n);
        }
        if (stamp[token] == current) {
            return index[token];
        }
        if (size == tokens.length) {
            int n = 2 * size;
            tokens = Arrays.copyOf(tokens, n);
            bias = Arrays.copyOf(bias, n);
            generated = Arrays.copyOf(generated, n);
            seen = Arrays.copyOf(seen, n);
        }
        stamp[token] = current;
        index[token] = size;
        tokens[size] = token;
        bias[size] = 0;
        generated[size] = 0;
        seen[size] = false;
        return size++;
    }
}

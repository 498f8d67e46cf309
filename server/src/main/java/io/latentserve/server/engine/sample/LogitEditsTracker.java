package io.latentserve.server.engine.sample;

import io.latentserve.model.backend.LogitEdits;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * One request's {@link LogitEdits}, kept up to date as its history grows: its logit bias and, over its tokens, the
 * repetition penalty's set (prompt and generated) and the generated counts (presence and frequency penalties); the
 * edits the {@link LogitsProcessor} would make, for a backend that samples the request's row itself. The prompt is
 * folded in once and each generated token once, so a step costs the copy of the entries, not a pass over the
 * history (a 4K-token prompt at batch 256 would otherwise cost milliseconds of host time per step).
 *
 * <p>Not thread-safe: it belongs to one sequence, used by the engine loop.
 */
public final class LogitEditsTracker {
    private final SamplingParams params;
    private final boolean repetition;
    private final boolean presenceFrequency;
    private final Map<Integer, Integer> index = new HashMap<>();   // token -> entry
    private int size;
    private int[] tokens = new int[16];
    private float[] bias = new float[16];
    private int[] generated = new int[16];
    private boolean[] seen = new boolean[16];
    private int folded;   // history tokens taken in so far

    /** A tracker for a request with these params, or null when they edit no logit. */
    public static LogitEditsTracker of(SamplingParams params) {
        boolean any = !params.logitBias().isEmpty() || DeviceSampling.editsFollowHistory(params);
        return any ? new LogitEditsTracker(params) : null;
    }

    private LogitEditsTracker(SamplingParams params) {
        this.params = params;
        this.repetition = params.repetitionPenalty() != 1;
        this.presenceFrequency = params.presencePenalty() != 0 || params.frequencyPenalty() != 0;
        for (Map.Entry<Integer, Float> e : params.logitBias().entrySet()) {
            int i = entry(e.getKey());   // first: entry() may grow the arrays
            bias[i] = e.getValue();
        }
    }

    /**
     * The edits after this history, which extends the one of the previous call (the same request's tokens, more
     * of them).
     */
    public LogitEdits edits(TokenHistory history) {
        if (history.length() < folded) {
            throw new IllegalArgumentException("the history shrank from " + folded + " to " + history.length()
                    + " tokens");
        }
        int[] h = history.tokens();
        for (; folded < history.length(); folded++) {
            boolean output = folded >= history.promptLength();
            if (repetition || output && presenceFrequency) {
                int e = entry(h[folded]);
                seen[e] = true;
                if (output && presenceFrequency) {
                    generated[e]++;
                }
            }
        }
        return new LogitEdits(Arrays.copyOf(tokens, size), Arrays.copyOf(bias, size), Arrays.copyOf(generated, size),
                Arrays.copyOf(seen, size), params.repetitionPenalty(), params.presencePenalty(),
                params.frequencyPenalty());
    }

    /** The entry of token, added on its first use. */
    private int entry(int token) {
        if (token < 0) {
            throw new IllegalArgumentException("token id " + token + " cannot have a logit edit");
        }
        Integer known = index.get(token);
        if (known != null) {
            return known;
        }
        if (size == tokens.length) {
            int n = 2 * size;
            tokens = Arrays.copyOf(tokens, n);
            bias = Arrays.copyOf(bias, n);
            generated = Arrays.copyOf(generated, n);
            seen = Arrays.copyOf(seen, n);
        }
        index.put(token, size);
        tokens[size] = token;
        return size++;
    }
}

package io.latentserve.model.backend;

/**
 * What {@link Backend#sampleRows} gives back, per row of logits: the token the backend sampled
 * ({@code tokens[r] >= 0}, and {@code hostLogits[r]} null), or the row's logits on the host for the caller
 * to sample ({@code tokens[r] == -1}).
 */
public record SampledRows(int[] tokens, float[][] hostLogits) {
    public static final int NOT_SAMPLED = -1;

    public SampledRows {
        if (tokens.length != hostLogits.length) {
            throw new IllegalArgumentException(tokens.length + " tokens for " + hostLogits.length + " rows");
        }
        for (int r = 0; r < tokens.length; r++) {
            if ((tokens[r] == NOT_SAMPLED) == (hostLogits[r] == null)) {
                throw new IllegalArgumentException("row " + r + " needs either a token or its logits, not both or neither");
            }
        }
    }

    public int rows() {
        return tokens.length;
    }

    public boolean sampled(int row) {
        return tokens[row] != NOT_SAMPLED;
    }

    /** Every row's logits on the host (nothing was sampled). */
    public static SampledRows allOnHost(float[][] logits) {
        int[] tokens = new int[logits.length];
        java.util.Arrays.fill(tokens, NOT_SAMPLED);
        return new SampledRows(tokens, logits);
    }
}

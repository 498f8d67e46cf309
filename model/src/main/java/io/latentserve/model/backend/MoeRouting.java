package io.latentserve.model.backend;

/**
 * The experts chosen for each token and their weights: experts[t * topK + k], weights[t * topK + k].
 * Kept on the host by the CPU backend.
 */
public record MoeRouting(int numTokens, int topK, int[] experts, float[] weights) {
}

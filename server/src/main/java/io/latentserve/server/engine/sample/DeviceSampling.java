package io.latentserve.server.engine.sample;

import io.latentserve.model.backend.LogitEdits;
import io.latentserve.model.backend.RowSampling;

import java.util.random.RandomGenerator;

/**
 * Which requests a backend may sample itself ({@link io.latentserve.model.backend.Backend#sampleRows}), so
 * that their logits never come to the host, and their row parameters for one step. A request qualifies when
 * the {@link Sampler} would do nothing beyond its logit edits (bias and penalties, sent as {@link LogitEdits}),
 * temperature, top-k, top-p and the draw: min-p 0 and no logprobs (they need the raw logits).
 * {@link RowSampling#sample} states the rules both follow; SamplerRulesTest holds the Sampler to them.
 */
public final class DeviceSampling {
    private DeviceSampling() {
    }

    /**
     * Whether a backend may sample this request for a model of this vocabulary: nothing in it needs the logits
     * on the host, and its logit bias names only tokens of the vocabulary (else the host sampler fails the
     * request alone).
     */
    public static boolean eligible(SamplingParams p, int vocabSize) {
        if (needsRawLogits(p)) {
            return false;
        }
        for (int token : p.logitBias().keySet()) {
            if (token >= vocabSize) {
                return false;
            }
        }
        return true;
    }

    /** The device samplers have no min-p, and logprobs come from the raw row: both need the host sampler. */
    private static boolean needsRawLogits(SamplingParams p) {
        return p.minP() != 0 || p.logprobs() >= 0;
    }

    /**
     * Whether the request's edits change with every token it generates (penalties): in a step planned before its
     * previous token is on the host, they count that token by {@link LogitEdits#pendingRow}.
     */
    public static boolean editsFollowHistory(SamplingParams p) {
        return p.repetitionPenalty() != 1 || p.presencePenalty() != 0 || p.frequencyPenalty() != 0;
    }

    /**
     * The row's parameters for one step of an eligible request, with its edits for this step. The uniform comes
     * from the request's own generator exactly as the Sampler draws it (one nextDouble per non-greedy token, none
     * when greedy), so a seeded request gets the same tokens whichever side samples it.
     */
    public static RowSampling row(SamplingParams p, RandomGenerator random, LogitEdits edits) {
        if (needsRawLogits(p)) {
            throw new IllegalArgumentException("this request needs the host sampler: " + p);
        }
        if (p.isGreedy()) {
            return RowSampling.greedy().withEdits(edits);
        }
        return new RowSampling(p.temperature(), p.topK(), p.topP(), random.nextDouble(), edits);
    }
}

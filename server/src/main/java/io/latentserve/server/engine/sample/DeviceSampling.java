package io.latentserve.server.engine.sample;

import io.latentserve.model.backend.RowSampling;

import java.util.random.RandomGenerator;

/**
 * Which requests a backend may sample itself ({@link io.latentserve.model.backend.Backend#sampleRows}), so
 * that their logits never come to the host, and their row parameters for one step. A request qualifies when
 * the {@link Sampler} would do nothing beyond temperature, top-k, top-p and the draw: no logit bias, no
 * repetition, presence or frequency penalty (the {@link LogitsProcessor} edits), min-p 0, and no logprobs
 * (they need the raw logits). {@link RowSampling#sample} states the rules both follow; SamplerRulesTest
 * holds the Sampler to them.
 */
public final class DeviceSampling {
    private DeviceSampling() {
    }

    /** Whether a backend may sample this request: nothing in it needs the logits on the host. */
    public static boolean eligible(SamplingParams p) {
        return p.logitBias().isEmpty() && p.repetitionPenalty() == 1 && p.presencePenalty() == 0
                && p.frequencyPenalty() == 0 && p.minP() == 0 && p.logprobs() < 0;
    }

    /**
     * The row's parameters for one step of an eligible request. The uniform comes from the request's own
     * generator exactly as the Sampler draws it (one nextDouble per non-greedy token, none when greedy), so
     * a seeded request gets the same tokens whichever side samples it.
     */
    public static RowSampling row(SamplingParams p, RandomGenerator random) {
        if (!eligible(p)) {
            throw new IllegalArgumentException("this request needs the host sampler: " + p);
        }
        if (p.isGreedy()) {
            return RowSampling.greedy();
        }
        return new RowSampling(p.temperature(), p.topK(), p.topP(), random.nextDouble());
    }
}

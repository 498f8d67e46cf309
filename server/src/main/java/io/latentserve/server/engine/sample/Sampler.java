package io.latentserve.server.engine.sample;

import java.util.random.RandomGenerator;

/**
 * Turns one sequence's last logits into a token: logit bias, penalties, temperature, top-k, top-p,
 * min-p, then a draw from the request's own generator (or argmax at temperature 0, lowest id on
 * ties). Logprobs come from the raw logits.
 *
 * <p>Holds scratch buffers sized to the vocabulary, so it is not thread-safe: one per engine loop.
 * All randomness comes from the generator passed in, which belongs to the request: a seeded request
 * draws the same tokens whatever else is in the batch.
 */
public final class Sampler {
    private final LogitsProcessor processor = new LogitsProcessor();
    private final Truncation truncation = new Truncation();
    private double[] processed = new double[0]; // [vocab] f64: logits after bias, penalties, temperature
    private double[] scratch = new double[0];   // [vocab] f64: for the log-softmax of the raw logits

    public SampledToken sample(float[] logits, SamplingParams params, TokenHistory history, RandomGenerator random) {
        int vocab = logits.length;
        if (processed.length < vocab) {
            processed = new double[vocab];
            scratch = new double[vocab];
        }
        processor.process(logits, params, history, processed);
        int token = params.isGreedy() ? argmax(processed, vocab) : draw(params, vocab, random);
        return Logprobs.describe(logits, token, params.logprobs(), scratch);
    }

    /** The processed logits as the sampler sees them before truncation; for tests and debugging. */
    double[] processedLogits(float[] logits, SamplingParams params, TokenHistory history) {
        double[] out = new double[logits.length];
        processor.process(logits, params, history, out);
        return out;
    }

    private static int argmax(double[] x, int vocab) {
        int best = -1;
        double bestValue = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            if (x[i] > bestValue) { // strict: the lowest id wins ties
                bestValue = x[i];
                best = i;
            }
        }
        if (best < 0) {
            throw new IllegalStateException("no token can be chosen: every logit is -inf or NaN (all banned?)");
        }
        return best;
    }

    // Inverse-CDF draw over the candidates, weights exp(logit - max) in double precision.
    private int draw(SamplingParams params, int vocab, RandomGenerator random) {
        int n = truncation.select(processed, vocab, params.topK(), params.topP(), params.minP());
        double total = 0;
        for (int j = 0; j < n; j++) {
            total += truncation.weight(j);
        }
        double u = random.nextDouble() * total;
        int lastPositive = 0;
        for (int j = 0; j < n; j++) {
            double w = truncation.weight(j);
            if (w > 0) {
                lastPositive = j;
                u -= w;
                if (u < 0) {
                    return truncation.candidate(j);
                }
            }
        }
        return truncation.candidate(lastPositive); // u reached the total through rounding
    }
}

package io.latentserve.server.engine.sample;

import io.latentserve.model.backend.LogitEdits;

import java.util.Map;

/**
 * The logit edits that come before truncation, in order: logit bias, repetition penalty, presence
 * and frequency penalties, temperature. The first three are {@link LogitEdits}' stages (each rounded to
 * f32), so that a backend applying a request's LogitEdits on the device gets the same logits. Work is
 * proportional to the vocabulary (one copy) plus the history length; the scratch arrays make it
 * allocation-free after the first call.
 *
 * <p>Not thread-safe: one per engine loop, inside its {@link Sampler}.
 */
final class LogitsProcessor {
    private int[] seenStamp = new int[0]; // seenStamp[token] == stamp: token already penalized this call
    private int stamp;
    private int[] counts = new int[0];    // occurrences among generated tokens, reset after each call

    /** Writes the processed logits of {@code logits} into {@code out[0, logits.length)}. */
    void process(float[] logits, SamplingParams params, TokenHistory history, double[] out) {
        int vocab = logits.length;
        ensureVocab(vocab);
        for (int i = 0; i < vocab; i++) {
            out[i] = logits[i];
            if (Double.isNaN(out[i]) || out[i] == Double.POSITIVE_INFINITY) {
                // Fail the request loudly rather than sample from a broken distribution.
                throw new IllegalArgumentException("logit of token " + i + " is " + logits[i] + ": the model output is broken");
            }
        }
        applyBias(params.logitBias(), out, vocab);
        boolean repetition = params.repetitionPenalty() != 1;
        boolean presenceFrequency = params.presencePenalty() != 0 || params.frequencyPenalty() != 0;
        if (repetition || presenceFrequency) {
            checkHistory(history, vocab); // up front, so that a bad id cannot leave the counts half-filled
        }
        if (repetition) {
            applyRepetition(history, params.repetitionPenalty(), out);
        }
        if (presenceFrequency) {
            applyPresenceFrequency(history, params.presencePenalty(), params.frequencyPenalty(), out);
        }
        if (!params.isGreedy() && params.temperature() != 1) {
            double inv = 1 / params.temperature();
            for (int i = 0; i < vocab; i++) {
                out[i] *= inv;
            }
        }
    }

    // The API promises that -100 bans a token (LogitEdits.BAN); adding -100 would not when a logit leads by more.
    private static void applyBias(Map<Integer, Float> bias, double[] out, int vocab) {
        for (Map.Entry<Integer, Float> e : bias.entrySet()) {
            int id = e.getKey();
            if (id >= vocab) {
                throw new IllegalArgumentException("logit_bias token id " + id + " outside the vocabulary 0.." + (vocab - 1));
            }
            if (e.getValue() != 0) {   // as LogitEdits: a zero bias is no edit (not even of -0.0's sign)
                out[id] = LogitEdits.biased((float) out[id], e.getValue());
            }
        }
    }

    // HF style, once per distinct token of prompt + generated: shrink positive logits, grow negative ones.
    private void applyRepetition(TokenHistory history, double penalty, double[] out) {
        int s = nextStamp();
        int[] tokens = history.tokens();
        for (int i = 0; i < history.length(); i++) {
            int t = tokens[i];
            if (seenStamp[t] != s) {
                seenStamp[t] = s;
                out[t] = LogitEdits.repeated((float) out[t], penalty);
            }
        }
    }

    // OpenAI style, over generated tokens only: logit -= frequency * count + presence * (count > 0).
    private void applyPresenceFrequency(TokenHistory history, double presence, double frequency, double[] out) {
        int[] tokens = history.tokens();
        for (int i = history.promptLength(); i < history.length(); i++) {
            counts[tokens[i]]++;
        }
        for (int i = history.promptLength(); i < history.length(); i++) {
            int t = tokens[i];
            if (counts[t] > 0) {
                out[t] = LogitEdits.penalized((float) out[t], counts[t], presence, frequency);
                counts[t] = 0; // doubles as "done" and leaves the array clean for the next call
            }
        }
    }

    private int nextStamp() {
        if (++stamp == Integer.MAX_VALUE) { // wrapped after ~2^31 calls: start the stamps over
            java.util.Arrays.fill(seenStamp, 0);
            stamp = 1;
        }
        return stamp;
    }

    private static void checkHistory(TokenHistory history, int vocab) {
        int[] tokens = history.tokens();
        for (int i = 0; i < history.length(); i++) {
            if (tokens[i] < 0 || tokens[i] >= vocab) {
                throw new IllegalArgumentException("token id " + tokens[i] + " in the history is outside the vocabulary 0.."
                        + (vocab - 1));
            }
        }
    }

    private void ensureVocab(int vocab) {
        if (seenStamp.length < vocab) {
            seenStamp = new int[vocab];
            counts = new int[vocab];
            stamp = 0;
        }
    }
}

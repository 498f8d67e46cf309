package io.latentserve.server.api;

import io.latentserve.server.engine.EngineException;
import io.latentserve.server.engine.GenerationOutput;
import io.latentserve.server.engine.GenerationRequest;
import io.latentserve.server.engine.RequestHandle;
import io.latentserve.server.engine.sample.SamplingParams;

import java.util.ArrayList;
import java.util.List;

/**
 * The engine requests behind one API request: every prompt times n choices, choice index = prompt index · n + j,
 * each its own engine sequence (siblings share the prompt's KV blocks through the prefix cache).
 */
final class Submission {
    /** One choice: which prompt it continues and the engine's handle on it. */
    record Choice(int index, int promptIndex, Prompt prompt, RequestHandle handle) {
    }

    private final List<Choice> choices;

    private Submission(List<Choice> choices) {
        this.choices = List.copyOf(choices);
    }

    /**
     * Submits everything or nothing: if the engine refuses one sequence, those already queued are cancelled.
     *
     * @param maxTokens   the requested limit, or null for "up to the context length"
     * @param promptParam the field that holds the prompt, for errors ("prompt" or "messages")
     */
    static Submission submit(ApiContext ctx, String id, List<Prompt> prompts, int n, SamplingParams sampling,
                             StopFields stop, Integer maxTokens, String promptParam) {
        List<Integer> limits = new ArrayList<>(); // checked for every prompt before anything is queued
        for (Prompt p : prompts) {
            limits.add(ContextLimit.maxTokens(ctx, p.ids().length, maxTokens, promptParam));
        }
        List<Choice> queued = new ArrayList<>();
        try {
            for (int i = 0; i < prompts.size(); i++) {
                Prompt p = prompts.get(i);
                for (int j = 0; j < n; j++) {
                    int index = i * n + j;
                    // A seeded request with n > 1 still wants n different choices: seed + j for choice j.
                    SamplingParams s = sampling.seed() == null || j == 0 ? sampling : sampling.withSeed(sampling.seed() + j);
                    var request = new GenerationRequest(id + "-" + index, p.ids(), s,
                            stop.conditions(ctx.model().tokenizer(), limits.get(i), p.ids().length, ctx.maxModelLen()));
                    queued.add(new Choice(index, i, p, ctx.engine().submit(request)));
                }
            }
        } catch (EngineException | IllegalArgumentException e) {
            queued.forEach(c -> c.handle().cancel());
            throw e;
        }
        return new Submission(queued);
    }

    List<Choice> choices() {
        return choices;
    }

    /** Stops every choice (the client went away); their KV blocks are freed at once. */
    void cancel() {
        choices.forEach(c -> c.handle().cancel());
    }

    /** Waits for every choice to finish (non-streamed replies). */
    List<ChoiceResult> collect() throws InterruptedException {
        List<ChoiceResult> results = new ArrayList<>();
        try {
            for (Choice c : choices) {
                ChoiceResult.Builder b = new ChoiceResult.Builder(c);
                GenerationOutput out;
                do {
                    out = c.handle().next();
                    b.add(out);
                } while (!out.finished());
                results.add(b.build());
            }
        } catch (InterruptedException e) {
            cancel();
            throw e;
        }
        return results;
    }
}

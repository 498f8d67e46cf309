package io.latentserve.server.api;

import io.latentserve.server.engine.GenerationOutput;
import io.latentserve.server.engine.sample.FinishReason;
import io.latentserve.server.engine.sample.SampledToken;

import java.util.ArrayList;
import java.util.List;

/** Everything one choice produced, gathered for a non-streamed reply. */
record ChoiceResult(Submission.Choice choice, List<SampledToken> tokens, String text, GenerationOutput last) {

    FinishReason finishReason() {
        return last.finishReason();
    }

    /** A failure of the engine is the server's fault: 500, never a half answer. */
    void requireNoError() {
        if (last.finishReason() == FinishReason.ERROR) {
            throw new ApiException(500, "internal_error", "Generation failed: " + last.error(), null, null, null);
        }
    }

    static final class Builder {
        private final Submission.Choice choice;
        private final List<SampledToken> tokens = new ArrayList<>();
        private final StringBuilder text = new StringBuilder();
        private GenerationOutput last;

        Builder(Submission.Choice choice) {
            this.choice = choice;
        }

        void add(GenerationOutput out) {
            tokens.addAll(out.tokens());
            text.append(out.text());
            last = out;
        }

        ChoiceResult build() {
            return new ChoiceResult(choice, List.copyOf(tokens), text.toString(), last);
        }
    }
}

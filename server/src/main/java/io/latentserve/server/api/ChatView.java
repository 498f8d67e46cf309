package io.latentserve.server.api;

import io.latentserve.server.engine.GenerationOutput;
import io.latentserve.server.engine.sample.SampledToken;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Builds chat responses, whole or as chunks (role first, content deltas, then the finish reason). */
final class ChatView implements ChunkFormat {
    private final ApiContext ctx;
    private final String id;
    private final long created;
    private final int topLogprobs;
    private final boolean returnTokenIds;
    private final boolean includeUsage;

    ChatView(ApiContext ctx, String id, long created, int topLogprobs, boolean returnTokenIds,
             boolean includeUsage) {
        this.ctx = ctx;
        this.id = id;
        this.created = created;
        this.topLogprobs = topLogprobs;
        this.returnTokenIds = returnTokenIds;
        this.includeUsage = includeUsage;
    }

    ChatCompletion completion(List<ChoiceResult> results) {
        List<ChatCompletion.Choice> choices = new ArrayList<>();
        UsageCounter usage = new UsageCounter();
        for (ChoiceResult c : results) {
            c.requireNoError();
            usage.add(c.choice().promptIndex(), c.last());
            choices.add(new ChatCompletion.Choice(c.choice().index(),
                    new ChatCompletion.Message("assistant", c.text(), null), logprobs(c.tokens()),
                    c.finishReason().apiName(), returnTokenIds ? LogprobFormat.ids(c.tokens()) : null));
        }
        return new ChatCompletion(id, created, ctx.model().name(), choices, usage.usage());
    }

    private ChatLogprobs logprobs(List<SampledToken> tokens) {
        return topLogprobs < 0 ? null : LogprobFormat.chat(tokens, ctx.model().tokenizer(), topLogprobs);
    }

    @Override
    public List<Object> opening(Submission.Choice choice) {
        return List.of(chunk(new ChatChunk.Choice(choice.index(), new ChatChunk.Delta("assistant", ""), null,
                null, null)));
    }

    @Override
    public List<Object> output(Submission.Choice choice, GenerationOutput out) {
        List<Object> events = new ArrayList<>(2);
        boolean hasTokens = !out.tokens().isEmpty() && (topLogprobs >= 0 || returnTokenIds);
        if (!out.text().isEmpty() || hasTokens) {
            events.add(chunk(new ChatChunk.Choice(choice.index(), new ChatChunk.Delta(null, out.text()),
                    logprobs(out.tokens()), null, returnTokenIds ? LogprobFormat.ids(out.tokens()) : null)));
        }
        if (out.finished()) {
            events.add(chunk(new ChatChunk.Choice(choice.index(), new ChatChunk.Delta(null, null), null,
                    out.finishReason().apiName(), null)));
        }
        return events;
    }

    @Override
    public Object usage(Usage usage) {
        return new ChatChunk(id, created, ctx.model().name(), List.of(), Optional.of(usage));
    }

    private ChatChunk chunk(ChatChunk.Choice choice) {
        return new ChatChunk(id, created, ctx.model().name(), List.of(choice),
                includeUsage ? Optional.empty() : null);
    }
}

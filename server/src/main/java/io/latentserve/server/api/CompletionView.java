package io.latentserve.server.api;

import io.latentserve.model.tokenizer.Tokenizer;
import io.latentserve.server.engine.GenerationOutput;
import io.latentserve.server.engine.sample.SampledToken;
import io.latentserve.server.engine.sample.TopLogprob;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds text-completion responses, whole or as chunks. Keeps, per choice, the character offset reached so far,
 * so that text_offset runs on across chunks. Echo repeats the prompt text; its tokens get no logprobs (the engine
 * computes none for prompts), so logprobs cover the generated tokens, offset past the echoed prompt.
 */
final class CompletionView implements ChunkFormat {
    private final ApiContext ctx;
    private final String id;
    private final long created;
    private final int logprobs;
    private final boolean echo;
    private final boolean returnTokenIds;
    private final boolean includeUsage;
    private final int[] offsets;

    CompletionView(ApiContext ctx, String id, long created, int logprobs, boolean echo, boolean returnTokenIds,
                   boolean includeUsage, int numChoices) {
        this.ctx = ctx;
        this.id = id;
        this.created = created;
        this.logprobs = logprobs;
        this.echo = echo;
        this.returnTokenIds = returnTokenIds;
        this.includeUsage = includeUsage;
        this.offsets = new int[numChoices];
    }

    Completion completion(List<ChoiceResult> results) {
        List<Completion.Choice> choices = new ArrayList<>();
        UsageCounter usage = new UsageCounter();
        for (ChoiceResult c : results) {
            c.requireNoError();
            usage.add(c.choice().promptIndex(), c.last());
            Prompt p = c.choice().prompt();
            offsets[c.choice().index()] = echo ? p.text().length() : 0;
            choices.add(new Completion.Choice(c.choice().index(), (echo ? p.text() : "") + c.text(),
                    logprobs(c.choice().index(), c.tokens()), c.finishReason().apiName(),
                    returnTokenIds ? LogprobFormat.ids(c.tokens()) : null, returnTokenIds ? ids(p) : null));
        }
        return new Completion(id, created, ctx.model().name(), choices, Optional.of(usage.usage()));
    }

    @Override
    public List<Object> opening(Submission.Choice choice) {
        Prompt p = choice.prompt();
        offsets[choice.index()] = echo ? p.text().length() : 0;
        if (!echo && !returnTokenIds) {
            return List.of();
        }
        return List.of(chunk(new Completion.Choice(choice.index(), echo ? p.text() : "", null, null,
                returnTokenIds ? List.of() : null, returnTokenIds ? ids(p) : null)));
    }

    @Override
    public List<Object> output(Submission.Choice choice, GenerationOutput out) {
        boolean hasTokens = !out.tokens().isEmpty() && (logprobs >= 0 || returnTokenIds);
        if (out.text().isEmpty() && !hasTokens && !out.finished()) {
            return List.of();
        }
        // OpenAI puts the finish reason on the chunk with the last text.
        return List.of(chunk(new Completion.Choice(choice.index(), out.text(), logprobs(choice.index(), out.tokens()),
                out.finished() ? out.finishReason().apiName() : null,
                returnTokenIds ? LogprobFormat.ids(out.tokens()) : null, null)));
    }

    @Override
    public Object usage(Usage usage) {
        return new Completion(id, created, ctx.model().name(), List.of(), Optional.of(usage));
    }

    private Completion chunk(Completion.Choice choice) {
        return new Completion(id, created, ctx.model().name(), List.of(choice), includeUsage ? Optional.empty() : null);
    }

    private Completion.Logprobs logprobs(int index, List<SampledToken> tokens) {
        if (logprobs < 0) {
            return null;
        }
        Tokenizer tok = ctx.model().tokenizer();
        List<String> texts = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        List<Map<String, Double>> tops = new ArrayList<>();
        List<Integer> textOffsets = new ArrayList<>();
        for (SampledToken t : tokens) {
            String text = tok.tokenText(t.tokenId());
            texts.add(text);
            values.add(LogprobFormat.value(t.logprob()));
            Map<String, Double> top = new LinkedHashMap<>();
            for (TopLogprob lp : t.top().subList(0, Math.min(logprobs, t.top().size()))) {
                top.putIfAbsent(tok.tokenText(lp.tokenId()), LogprobFormat.value(lp.logprob()));
            }
            tops.add(top);
            textOffsets.add(offsets[index]);
            offsets[index] += text.length();
        }
        return new Completion.Logprobs(texts, values, tops, textOffsets);
    }

    private static List<Integer> ids(Prompt p) {
        return Arrays.stream(p.ids()).boxed().toList();
    }
}

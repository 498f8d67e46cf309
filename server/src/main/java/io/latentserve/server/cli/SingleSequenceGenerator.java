package io.latentserve.server.cli;

import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.server.engine.sample.SampledToken;
import io.latentserve.server.engine.sample.Sampler;
import io.latentserve.server.engine.sample.SamplingParams;
import io.latentserve.server.engine.sample.TokenHistory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * Generates one sequence without the serving engine: one prefill, then one decode step per token, over a
 * private KV cache. For `latentserve generate` and `bench`; the server uses the batching engine instead.
 */
public final class SingleSequenceGenerator {
    private static final int BLOCK_SIZE = 16;

    private final CausalLM model;
    private final KvCacheDtype cacheDtype;
    private final Sampler sampler = new Sampler();

    /** What a generation produced, with timings of its two phases. */
    public record Result(int[] promptIds, List<SampledToken> tokens, String finishReason, long prefillNanos,
                         long decodeNanos) {
        public int[] outputIds() {
            return tokens.stream().mapToInt(SampledToken::tokenId).toArray();
        }
    }

    public SingleSequenceGenerator(CausalLM model) {
        this(model, KvCacheDtype.F32);
    }

    /** Generates with a KV cache of the given element type. */
    public SingleSequenceGenerator(CausalLM model, KvCacheDtype cacheDtype) {
        this.model = model;
        this.cacheDtype = Objects.requireNonNull(cacheDtype, "cacheDtype");
    }

    /**
     * @param stopTokenId generation ends after this token (EOS); -1 for none
     * @param onToken     called with each token as soon as it is sampled
     */
    public Result generate(int[] promptIds, int maxTokens, SamplingParams params, int stopTokenId,
                           Consumer<SampledToken> onToken) {
        int contextLimit = model.config().maxPositionEmbeddings();
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        if (promptIds.length + maxTokens > contextLimit) {
            throw new IllegalArgumentException("this model's maximum context length is " + contextLimit
                    + " tokens; the prompt has " + promptIds.length + " and " + maxTokens + " more were requested");
        }
        int capacity = promptIds.length + maxTokens;
        int[] table = new int[(capacity + BLOCK_SIZE - 1) / BLOCK_SIZE];
        Arrays.setAll(table, i -> i);
        RandomGenerator random = params.newRandom();
        List<SampledToken> out = new ArrayList<>();
        int[] history = Arrays.copyOf(promptIds, capacity);
        String finish = "length";
        long start = System.nanoTime();
        long prefillNanos = 0;
        try (KvCache cache = model.newKvCache(table.length, BLOCK_SIZE, cacheDtype)) {
            float[] logits = model.forward(ForwardBatch.of(new int[][]{promptIds}, new int[]{0},
                    new int[][]{table}, BLOCK_SIZE), cache)[0];
            prefillNanos = System.nanoTime() - start;
            for (int i = 0; i < maxTokens; i++) {
                int length = promptIds.length + i;
                SampledToken token = sampler.sample(logits, params, new TokenHistory(history, promptIds.length, length),
                        random);
                out.add(token);
                history[length] = token.tokenId();
                onToken.accept(token);
                if (token.tokenId() == stopTokenId) {
                    finish = "stop";
                    break;
                }
                if (i + 1 < maxTokens) {
                    logits = model.forward(ForwardBatch.of(new int[][]{{token.tokenId()}}, new int[]{length},
                            new int[][]{table}, BLOCK_SIZE), cache)[0];
                }
            }
        }
        long decodeNanos = System.nanoTime() - start - prefillNanos;
        return new Result(promptIds, out, finish, prefillNanos, decodeNanos);
    }
}

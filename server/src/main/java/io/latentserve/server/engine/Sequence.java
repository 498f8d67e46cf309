package io.latentserve.server.engine;

import io.latentserve.model.backend.LogitEdits;
import io.latentserve.model.tokenizer.IncrementalDetokenizer;
import io.latentserve.model.tokenizer.Tokenizer;
import io.latentserve.server.engine.sample.LogitEditsTracker;
import io.latentserve.server.engine.sample.StopChecker;
import io.latentserve.server.engine.sample.TokenHistory;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * The engine's state of one request: its tokens so far, how many of them have KV in the cache
 * (numComputed), and its sampling and stop state. Owned by the engine loop only.
 */
final class Sequence {
    final long id;                 // also the arrival order: a higher id arrived later
    final GenerationRequest request;
    final RequestHandle handle;
    final RandomGenerator random;
    final IncrementalDetokenizer detokenizer;
    final StopChecker stopChecker;
    final long arrivalNanos;
    private int[] tokens;          // [prompt + generated], grown as needed
    private int length;
    int numComputed;               // tokens whose KV is written; the scheduler grants tokens until it reaches length
    int cachedPromptTokens = -1;   // prefix-cache hit of the first admission (-1 until admitted)
    long firstTokenNanos;
    long lastTokenNanos;
    long firstScheduledNanos;
    int preemptions;
    private final LogitEditsTracker editsTracker;   // null for a request without logit edits
    boolean leftQueue;             // counted out of the engine's waiting-queue limit
    boolean finished;              // its final output is delivered; a launched step's row for it is thrown away

    Sequence(long id, GenerationRequest request, RequestHandle handle, Tokenizer tokenizer) {
        this.id = id;
        this.request = request;
        this.handle = handle;
        this.random = request.sampling().newRandom();
        this.detokenizer = new IncrementalDetokenizer(tokenizer, true);
        this.stopChecker = new StopChecker(request.stop());
        this.editsTracker = LogitEditsTracker.of(request.sampling());
        this.arrivalNanos = System.nanoTime();
        int[] prompt = request.promptTokens();
        this.tokens = Arrays.copyOf(prompt, prompt.length + Math.min(request.stop().maxTokens(), 256));
        this.length = prompt.length;
    }

    int length() {
        return length;
    }

    int promptLength() {
        return request.promptTokens().length;
    }

    int numGenerated() {
        return length - promptLength();
    }

    /** Whether `more` tokens beyond those known would reach max_tokens or the context length (a LENGTH stop). */
    boolean lengthStopAfter(int more) {
        var stop = request.stop();
        int generated = numGenerated() + more;
        return generated >= stop.maxTokens() || promptLength() + generated >= stop.maxModelLength();
    }

    /** Tokens still to run through the model before the next sample. */
    int numUncomputed() {
        return length - numComputed;
    }

    int token(int position) {
        return tokens[position];
    }

    /** The live token array (valid up to length()); not to be kept. */
    int[] tokensView() {
        return tokens;
    }

    int[] tokens(int from, int to) {
        return Arrays.copyOfRange(tokens, from, to);
    }

    int[] allTokens() {
        return Arrays.copyOf(tokens, length);
    }

    void append(int token) {
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length * 2);
        }
        tokens[length++] = token;
    }

    /** This step's logit edits (bias, penalties) for a backend that samples the row (NONE when it has none). */
    LogitEdits logitEdits() {
        return editsTracker == null ? LogitEdits.NONE : editsTracker.edits(history());
    }

    TokenHistory history() {
        return new TokenHistory(tokens, promptLength(), length);
    }

    String requestId() {
        return request.requestId();
    }
}

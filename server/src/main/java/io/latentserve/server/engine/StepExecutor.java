package io.latentserve.server.engine;

import java.util.List;

/**
 * Runs the scheduled batches on the model, on the engine's loop thread, and hands every row's result to the
 * {@link TokenAcceptor}, counting each step as an iteration: one step at a time ({@link #step}), or pipelined
 * with async scheduling ({@link #launchFirst}, then {@link #advance}): the next step launched before the
 * launched one's tokens are awaited and accepted. What to schedule, and when to idle, the engine decides.
 */
final class StepExecutor {
    private final ModelRunner runner;
    private final Scheduler scheduler;
    private final LaunchedSteps launched;
    private final TokenAcceptor acceptor;
    private final EngineCounters counters;
    private final EngineListener listener;

    StepExecutor(ModelRunner runner, Scheduler scheduler, LaunchedSteps launched, TokenAcceptor acceptor,
                 EngineCounters counters, EngineListener listener) {
        this.runner = runner;
        this.scheduler = scheduler;
        this.launched = launched;
        this.acceptor = acceptor;
        this.counters = counters;
        this.listener = listener;
    }

    /** Runs chunks and accepts their tokens (the synchronous loop). */
    void step(List<Scheduler.Chunk> chunks) {
        long start = System.nanoTime();
        ModelRunner.Results results;
        try {
            results = runner.run(chunks);
        } catch (RuntimeException e) {
            acceptor.modelFailed(chunks, e);
            return;
        }
        int tokens = 0;
        for (int i = 0; i < chunks.size(); i++) {
            tokens += acceptor.apply(chunks.get(i), results.tokens()[i], results.logits()[i]);
        }
        counters.iteration(chunks.size(), tokens);
        listener.onIteration(chunks.size(), tokens, System.nanoTime() - start);
    }

    // ---- async scheduling ----

    /** Whether a launched step waits to be accepted. */
    boolean inFlight() {
        return launched.current() != null;
    }

    /** Launches chunks with nothing in flight; false when the launch failed (its chunks' requests failed). */
    boolean launchFirst(List<Scheduler.Chunk> chunks) {
        long start = System.nanoTime();
        launched.launchedFirst(launch(chunks, null), start);
        return launched.current() != null;
    }

    /**
     * One turn of the pipeline, with a step in flight: if the next step may be planned now (scheduleAhead: the
     * engine has no cancellations to take in) and can be planned without the launched step's tokens on the host
     * (Scheduler.scheduleAhead), launch it; then accept the launched step's tokens while the next one runs.
     */
    void advance(boolean scheduleAhead) {
        ModelRunner.Launched current = launched.current();
        long start = System.nanoTime();
        List<Scheduler.Chunk> next = scheduleAhead ? scheduler.scheduleAhead(current) : null;
        if (next != null) {
            launched.launchedNext(launch(next, current), start);
        }
        acceptLaunched(current, launched.currentStart());
        launched.currentAccepted();
    }

    /** Launches chunks (null, with every chunk failed, if the model throws). */
    private ModelRunner.Launched launch(List<Scheduler.Chunk> chunks, ModelRunner.Launched previous) {
        try {
            return runner.launch(chunks, previous);
        } catch (RuntimeException e) {
            acceptor.modelFailed(chunks, e);
            return null;
        }
    }

    /** Awaits a launched step and accepts its tokens; rows of sequences finished since its launch are thrown away. */
    private void acceptLaunched(ModelRunner.Launched step, long start) {
        ModelRunner.Results results;
        try {
            results = step.await();
        } catch (RuntimeException e) {
            acceptor.modelFailed(step.chunks.stream().filter(c -> !c.seq().finished).toList(), e);
            return;
        }
        int seqs = 0;
        int tokens = 0;
        for (int i = 0; i < step.chunks.size(); i++) {
            Scheduler.Chunk c = step.chunks.get(i);
            if (!c.seq().finished) {
                seqs++;
                tokens += acceptor.apply(c, results.tokens()[i], results.logits()[i]);
            }
        }
        if (seqs > 0) { // a step whose every row was thrown away is one the synchronous loop never runs
            counters.iteration(seqs, tokens);
            listener.onIteration(seqs, tokens, System.nanoTime() - start);
        }
    }
}

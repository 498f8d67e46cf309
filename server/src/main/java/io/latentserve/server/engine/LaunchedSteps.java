package io.latentserve.server.engine;

import io.latentserve.server.engine.kv.KvCacheManager;

import java.util.ArrayList;
import java.util.List;

/**
 * The steps async scheduling has launched and not yet accepted, at most two: the one being accepted
 * (current) and the one launched after it (next); and the finished sequences whose KV blocks wait until
 * the step that still writes them is awaited. Accounting only: the engine decides what to launch.
 */
final class LaunchedSteps {
    private final KvCacheManager kv;
    private ModelRunner.Launched current;
    private long currentStart;
    private ModelRunner.Launched next;
    private long nextStart;
    private final List<Sequence> freeAfterCurrent = new ArrayList<>();
    private final List<Sequence> freeAfterNext = new ArrayList<>();

    LaunchedSteps(KvCacheManager kv) {
        this.kv = kv;
    }

    /** The launched step to accept next, or null when nothing is launched. */
    ModelRunner.Launched current() {
        return current;
    }

    long currentStart() {
        return currentStart;
    }

    /** A step launched with nothing else in flight (null when its launch failed). */
    void launchedFirst(ModelRunner.Launched step, long start) {
        current = step;
        currentStart = start;
    }

    /** A step launched after current, before current is accepted (null when its launch failed). */
    void launchedNext(ModelRunner.Launched step, long start) {
        next = step;
        nextStart = start;
    }

    /**
     * Whether a finished sequence must keep its blocks because a launched step not yet awaited still writes
     * its KV: then they are freed when that step is awaited ({@link #currentAccepted}).
     */
    boolean deferFree(Sequence seq) {
        if (next != null && next.contains(seq)) {
            freeAfterNext.add(seq);
            return true;
        }
        if (current != null && !current.awaited() && current.contains(seq)) {
            freeAfterCurrent.add(seq);
            return true;
        }
        return false;
    }

    /** Current has been awaited and accepted: its sequences' blocks are freed, and next becomes current. */
    void currentAccepted() {
        freeAll(freeAfterCurrent);
        current = next;
        currentStart = nextStart;
        next = null;
        freeAfterCurrent.addAll(freeAfterNext);
        freeAfterNext.clear();
    }

    /** Waits out every launched step (ignoring their errors: the caller fails their sequences) and frees what waited. */
    void abandon() {
        for (ModelRunner.Launched step : new ModelRunner.Launched[]{current, next}) {
            if (step != null) {
                try {
                    step.await();
                } catch (RuntimeException ignored) {
                    // reported through the sequences the caller finishes
                }
            }
        }
        current = null;
        next = null;
        freeAll(freeAfterCurrent);
        freeAll(freeAfterNext);
    }

    private void freeAll(List<Sequence> finished) {
        for (Sequence seq : finished) {
            kv.freeSequence(seq.id);
        }
        finished.clear();
    }
}

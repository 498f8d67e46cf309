package io.latentserve.server.api;

import io.latentserve.server.engine.GenerationOutput;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Interleaves the outputs of all choices of a streamed request in the order the engine produced them.
 * One virtual thread per choice waits on its handle and forwards; each ends with its choice's final output
 * (cancelling a choice makes the engine deliver one, so no forwarder outlives its request).
 */
final class OutputMerger {
    /** An output and the choice it belongs to. */
    record Event(Submission.Choice choice, GenerationOutput output) {
    }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private int unfinished;

    OutputMerger(Submission submission) {
        unfinished = submission.choices().size();
        for (Submission.Choice c : submission.choices()) {
            Thread.ofVirtual().name("forward-" + c.handle().requestId()).start(() -> forward(c));
        }
    }

    private void forward(Submission.Choice c) {
        try {
            GenerationOutput out;
            do {
                out = c.handle().next();
                events.add(new Event(c, out));
            } while (!out.finished());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    boolean hasMore() {
        return unfinished > 0;
    }

    Event next() throws InterruptedException {
        Event e = events.take();
        if (e.output().finished()) {
            unfinished--;
        }
        return e;
    }
}

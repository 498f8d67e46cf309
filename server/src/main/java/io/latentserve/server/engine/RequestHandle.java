package io.latentserve.server.engine;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The caller's side of one submitted request: a stream of outputs ending with one whose finishReason is
 * set, and a way to cancel (e.g. when the HTTP client disconnects). Safe to use from any thread.
 */
public final class RequestHandle {
    private final String requestId;
    private final BlockingQueue<GenerationOutput> outputs = new LinkedBlockingQueue<>();
    private final Consumer<RequestHandle> canceller;
    private volatile boolean finished;

    RequestHandle(String requestId, Consumer<RequestHandle> canceller) {
        this.requestId = requestId;
        this.canceller = canceller;
    }

    public String requestId() {
        return requestId;
    }

    /** The next output, waiting as long as needed. */
    public GenerationOutput next() throws InterruptedException {
        return outputs.take();
    }

    /** The next output, or null after the timeout. */
    public GenerationOutput next(long timeout, TimeUnit unit) throws InterruptedException {
        return outputs.poll(timeout, unit);
    }

    /** Asks the engine to stop this request and free its KV blocks; it ends with finish reason ABORT. */
    public void cancel() {
        if (!finished) {
            canceller.accept(this);
        }
    }

    /** True once the engine has delivered the final output. */
    public boolean isFinished() {
        return finished;
    }

    void deliver(GenerationOutput output) {
        if (output.finished()) {
            finished = true;
        }
        outputs.add(output);
    }
}

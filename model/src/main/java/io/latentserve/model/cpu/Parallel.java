package io.latentserve.model.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/** Splits index ranges over a fork-join pool; the calling thread takes part in the work. */
final class Parallel {

    /** Work of one chunk [from, to). */
    @FunctionalInterface
    interface RangeBody {
        void run(int from, int to);
    }

    private final ForkJoinPool pool;
    private final int threads;

    Parallel(int threads) {
        this.threads = Math.max(1, threads);
        this.pool = this.threads == 1 ? null : new ForkJoinPool(this.threads);
    }

    int threads() {
        return threads;
    }

    /** Runs body over [0, n) in chunks of at least `grain` items, about 4 chunks per thread. */
    void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int chunk = Math.max(grain, (n + threads * 4 - 1) / (threads * 4));
        if (pool == null || n <= chunk) {
            body.run(0, n);
            return;
        }
        var task = new Split(body, 0, n, chunk);
        if (java.util.concurrent.ForkJoinTask.getPool() == pool) {
            task.invoke(); // nested call from inside the pool: fork within it
        } else {
            pool.invoke(task);
        }
    }

    void shutdown() {
        if (pool != null) {
            pool.shutdown();
        }
    }

    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final int from;
        private final int to;
        private final int chunk;

        Split(RangeBody body, int from, int to, int chunk) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.chunk = chunk;
        }

        @Override
        protected void compute() {
            if (to - from <= chunk) {
                body.run(from, to);
                return;
            }
            int mid = from + (to - from) / 2;
            invokeAll(new Split(body, from, mid, chunk), new Split(body, mid, to, chunk));
        }
    }
}

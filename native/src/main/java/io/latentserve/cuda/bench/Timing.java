package io.latentserve.cuda.bench;

import io.latentserve.cuda.CudaContext;

/**
 * Wall time of GPU work queued on the context's stream: after a warm-up round, the best of several rounds
 * of reps back-to-back, each round ended by a stream synchronize (so host launch cost counts, as it does
 * for the server).
 */
public record Timing(double secondsPerRep, int reps) {

    public static Timing best(CudaContext ctx, int rounds, int reps, Runnable work) {
        work.run();
        ctx.synchronize();
        double best = Double.POSITIVE_INFINITY;
        for (int r = 0; r < rounds; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                work.run();
            }
            ctx.synchronize();
            best = Math.min(best, (System.nanoTime() - start) / 1e9 / reps);
        }
        return new Timing(best, reps);
    }
}

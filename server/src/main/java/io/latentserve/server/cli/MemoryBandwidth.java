package io.latentserve.server.cli;

import java.util.stream.IntStream;

/**
 * A STREAM-like triad a = b + s·c over arrays far larger than the caches, on all threads: the memory
 * bandwidth that bounds decode on this machine (BENCHMARKS.md: measure it next to every result).
 */
final class MemoryBandwidth {
    private static final int N = 32 << 20; // 32 M floats per array: 384 MB in all

    private final float[] a = new float[N];
    private final float[] b = new float[N];
    private final float[] c = new float[N];
    private final int threads;

    MemoryBandwidth(int threads) {
        this.threads = threads;
        IntStream.range(0, N).parallel().forEach(i -> {
            b[i] = i;
            c[i] = 1;
        });
    }

    /** Best of `repeats` triads, in bytes per second (3 arrays × 4 bytes per element moved). */
    double measure(int repeats) {
        double best = 0;
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            IntStream.range(0, threads).parallel().forEach(part -> {
                int from = (int) ((long) N * part / threads);
                int to = (int) ((long) N * (part + 1) / threads);
                for (int i = from; i < to; i++) {
                    a[i] = b[i] + 3f * c[i];
                }
            });
            double seconds = (System.nanoTime() - t0) / 1e9;
            best = Math.max(best, 3.0 * 4 * N / seconds);
        }
        return best;
    }
}

package io.latentserve.server.engine;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.DecodeBuckets;
import io.latentserve.model.backend.PendingRows;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;
import io.latentserve.model.backend.Tensor;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test double of a backend that samples on the device and hands its tokens over later, so that async
 * scheduling really runs on the CPU: the CPU backend, but it {@link Backend#samplesRows samples rows} by
 * {@link RowSampling#sample}, {@link Backend#launchSampleRows} returns a handle whose await is logged, and
 * markers are resolved from the handle's tokens without awaiting it (as a device gathers them). The log
 * ("launch k", "await k") shows whether step k+1 was launched before step k was awaited.
 */
final class DeferredSamplingBackend {
    final Backend backend;
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger launches = new AtomicInteger();
    final AtomicInteger resolvedMarkers = new AtomicInteger();
    /** Rows whose logit edits counted a token of the previous pass still "on the device". */
    final AtomicInteger resolvedPendingEdits = new AtomicInteger();
    /** Per forward pass sampled, in order: {tokens embedded, logit rows sampled} (equal in a decode-only step). */
    final List<int[]> stepShapes = Collections.synchronizedList(new ArrayList<>());
    /** Per launched pass, by launch index: {tokens embedded, logit rows sampled}. */
    final List<int[]> launchedShapes = Collections.synchronizedList(new ArrayList<>());
    private volatile int lastTokens;

    /** A launched pass: the tokens exist already (the CPU is done), but the host "sees" them at await. */
    private final class Pending implements PendingRows {
        final int index;
        final SampledRows rows;
        private boolean awaited;

        Pending(int index, SampledRows rows) {
            this.index = index;
            this.rows = rows;
        }

        @Override
        public synchronized SampledRows await() {
            if (!awaited) {
                awaited = true;
                log.add("await " + index);
            }
            return rows;
        }
    }

    DeferredSamplingBackend(Backend cpu) {
        this(cpu, DecodeBuckets.NONE);
    }

    /** The same, asking for decode steps padded to these buckets (as the CUDA backend with graphs). */
    DeferredSamplingBackend(Backend cpu, DecodeBuckets buckets) {
        this.backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "samplesRows" -> true;
                    case "decodeBuckets" -> buckets;
                    case "sampleRows" -> sampleRows(cpu, (Tensor) args[0], (RowSampling[]) args[1]);
                    case "launchSampleRows" -> launch(cpu, (Tensor) args[0], (RowSampling[]) args[1],
                            (PendingRows) args[2]);
                    case "embedding" -> {
                        lastTokens = ((int[]) args[1]).length;
                        if (args.length == 4) {
                            embedding(cpu, (Tensor) args[0], (int[]) args[1], (PendingRows) args[2], (Tensor) args[3]);
                        } else {
                            cpu.embedding((Tensor) args[0], (int[]) args[1], (Tensor) args[2]);
                        }
                        yield null;
                    }
                    default -> {
                        try {
                            yield method.invoke(cpu, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    }
                });
    }

    /** Whether some step was launched before the one before it was awaited. */
    boolean pipelined() {
        return !pipelinedLaunches().isEmpty();
    }

    /** The launch indices k > 0 of steps launched before step k - 1 was awaited. */
    List<Integer> pipelinedLaunches() {
        List<Integer> found = new ArrayList<>();
        List<String> copy;
        synchronized (log) {
            copy = List.copyOf(log);
        }
        for (int i = 0; i < copy.size(); i++) {
            if (copy.get(i).startsWith("launch ")) {
                int k = Integer.parseInt(copy.get(i).substring(7));
                if (k > 0 && !copy.subList(0, i).contains("await " + (k - 1))) {
                    found.add(k);
                }
            }
        }
        return found;
    }

    private SampledRows sampleRows(Backend cpu, Tensor logits, RowSampling[] sampling) {
        stepShapes.add(new int[]{lastTokens, logits.rows()});
        return sample(cpu, logits, sampling);
    }

    /**
     * Launches the sampling; edits that count the previous pass's token of a row take it from that pass without
     * awaiting it (as a device reads its token buffer).
     */
    private PendingRows launch(Backend cpu, Tensor logits, RowSampling[] sampling, PendingRows previous) {
        RowSampling[] resolved = sampling.clone();
        for (int r = 0; r < sampling.length; r++) {
            int row = sampling[r] == null ? -1 : sampling[r].edits().pendingRow();
            if (row >= 0) {
                int token = ((Pending) previous).rows.tokens()[row];
                resolved[r] = sampling[r].withEdits(sampling[r].edits().resolved(token));
                resolvedPendingEdits.incrementAndGet();
            }
        }
        Pending p = new Pending(launches.getAndIncrement(), sampleRows(cpu, logits, resolved));
        launchedShapes.add(new int[]{lastTokens, logits.rows()});
        log.add("launch " + p.index);
        return p;
    }

    private void embedding(Backend cpu, Tensor table, int[] ids, PendingRows previous, Tensor out) {
        if (!(previous instanceof Pending p)) {
            cpu.embedding(table, PendingRows.resolve(ids, previous), out); // the host path: awaits previous
            return;
        }
        boolean[] sampled = new boolean[p.rows.rows()];
        for (int r = 0; r < sampled.length; r++) {
            sampled[r] = p.rows.sampled(r);
        }
        PendingRows.checkMarkers(ids, sampled);
        int[] resolved = ids.clone();
        for (int t = 0; t < ids.length; t++) {
            if (PendingRows.isMarker(ids[t])) {
                resolved[t] = p.rows.tokens()[PendingRows.markerRow(ids[t])];
                resolvedMarkers.incrementAndGet();
            }
        }
        cpu.embedding(table, resolved, out);
    }

    static SampledRows sample(Backend cpu, Tensor logits, RowSampling[] sampling) {
        float[][] rows = cpu.toHostRows(logits);
        int[] tokens = new int[rows.length];
        for (int r = 0; r < rows.length; r++) {
            if (sampling[r] == null) {
                tokens[r] = SampledRows.NOT_SAMPLED;
            } else {
                tokens[r] = sampling[r].sample(rows[r]);
                rows[r] = null;
            }
        }
        return new SampledRows(tokens, rows);
    }
}

package io.latentserve.server.engine;

import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.DecodeBuckets;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.LogitEdits;
import io.latentserve.model.backend.PendingRows;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.server.engine.kv.KvCacheManager;
import io.latentserve.server.engine.sample.DeviceSampling;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns one step's chunks into an explicit ForwardBatch and runs the model once for the whole batch. With
 * device sampling, the chunks whose requests the backend can sample (see {@link DeviceSampling}) get their
 * token from the backend and only the other chunks' logits come to the host. With async scheduling a step is
 * {@link #launch launched} instead: its tokens arrive with {@link Launched#await}, and the next step may be
 * launched before that, its inputs naming the tokens still on the device.
 *
 * <p>A backend that replays CUDA graphs asks for decode steps padded to a few batch sizes
 * ({@link DecodeBuckets}): a decode-only step of n sequences then runs with padding rows up to its bucket, each a
 * one-token sequence of token 0 at position 0 in a spare cache block that no sequence owns (the block after the
 * pool's, see {@link #padBlock}), sampled greedily on the device next to the real device rows, its token dropped.
 * Every real row computes what it would without them (rows do not mix in a decode step).
 */
final class ModelRunner {
    private final CausalLM model;
    private final KvCache cache;
    private final KvCacheManager kv;
    private final boolean deviceSampling;
    private final DecodeBuckets buckets;
    private final int padBlock;
    private final int maxRows;

    /**
     * Per chunk, in chunk order: the token the backend sampled ({@code tokens[s] >= 0}), or the logits for the
     * host sampler, or neither for a chunk that only prefills.
     */
    record Results(int[] tokens, float[][] logits) {
    }

    /**
     * The batch's inputs (the chunks' tokens, then {@code pad} padding rows), and per chunk its last token row (-1
     * when the chunk does not sample).
     */
    private record Inputs(int[] ids, AttentionBatch attention, int[] lastRow, int pad) {
    }

    /**
     * Where each chunk's logits go. Logit rows are listed with the device-sampled chunks first, so that the
     * backend samples one run of rows and copies one run to the host; results go back to chunk order.
     */
    private record Rows(RowSampling[] perChunk, int[] rowOfChunk, int[] logitRows, RowSampling[] rowSampling,
                        int onDevice) {
        Results results(SampledRows rows) {
            int n = perChunk.length;
            int[] tokens = new int[n];
            float[][] logits = new float[n][];
            Arrays.fill(tokens, SampledRows.NOT_SAMPLED);
            for (int s = 0; s < n; s++) {
                int r = rowOfChunk[s];
                if (r < 0) {
                    continue;
                }
                if (perChunk[s] != null && !rows.sampled(r)) {
                    throw new IllegalStateException("the backend did not sample logit row " + r + " it was asked to");
                }
                tokens[s] = rows.tokens()[r];
                logits[s] = rows.hostLogits()[r];
            }
            return new Results(tokens, logits);
        }
    }

    /** A launched step (async scheduling): its chunks and rows; the tokens come with {@link #await}. */
    static final class Launched {
        final List<Scheduler.Chunk> chunks;
        private final Rows rows;
        private final PendingRows pending;
        private final Map<Sequence, Integer> deviceRow = new IdentityHashMap<>();
        private final Map<Sequence, Scheduler.Chunk> chunkOf = new IdentityHashMap<>();
        private Results results;

        private Launched(List<Scheduler.Chunk> chunks, Rows rows, PendingRows pending) {
            this.chunks = chunks;
            this.rows = rows;
            this.pending = pending;
            for (int s = 0; s < chunks.size(); s++) {
                chunkOf.put(chunks.get(s).seq(), chunks.get(s));
                if (rows.perChunk[s] != null) {
                    deviceRow.put(chunks.get(s).seq(), rows.rowOfChunk[s]);
                }
            }
        }

        /** Blocks until the step's tokens are on the host; the same results on every call. */
        Results await() {
            if (results == null) {
                results = rows.results(pending.await());
            }
            return results;
        }

        boolean awaited() {
            return results != null;
        }

        /** The logit row whose device-sampled token is seq's next one, or -1 when this step samples none for it. */
        int deviceRow(Sequence seq) {
            return deviceRow.getOrDefault(seq, -1);
        }

        boolean contains(Sequence seq) {
            return chunkOf.containsKey(seq);
        }

        /** Seq's chunk in this step, or null when the step does not run it. */
        Scheduler.Chunk chunkOf(Sequence seq) {
            return chunkOf.get(seq);
        }
    }

    ModelRunner(CausalLM model, KvCache cache, KvCacheManager kv, boolean deviceSampling) {
        this(model, cache, kv, deviceSampling, DecodeBuckets.NONE, -1, 0);
    }

    /**
     * @param buckets  the batch sizes decode steps are padded to (needs device sampling: the padding rows are
     *                 sampled with the real ones, so their logits never travel to the host)
     * @param padBlock the cache block the padding rows use: one the pool never hands out
     * @param maxRows  no step is padded beyond this many rows (the scheduler's sequences per batch)
     */
    ModelRunner(CausalLM model, KvCache cache, KvCacheManager kv, boolean deviceSampling, DecodeBuckets buckets,
                int padBlock, int maxRows) {
        if (buckets.pads() && (!deviceSampling || padBlock < 0)) {
            throw new IllegalArgumentException("padded decode steps need device sampling and a spare cache block");
        }
        this.model = model;
        this.cache = cache;
        this.kv = kv;
        this.deviceSampling = deviceSampling;
        this.buckets = buckets;
        this.padBlock = padBlock;
        this.maxRows = maxRows;
    }

    boolean deviceSampling() {
        return deviceSampling;
    }

    /** Runs the step and waits for its tokens and logits. */
    Results run(List<Scheduler.Chunk> chunks) {
        Inputs in = inputs(chunks, null);
        Rows rows = rows(chunks, in, null);
        var batch = new ForwardBatch(in.ids, in.attention, rows.logitRows);
        SampledRows sampled = rows.onDevice > 0 ? model.forwardSampled(batch, cache, rows.rowSampling)
                : SampledRows.allOnHost(model.forward(batch, cache));
        return rows.results(sampled);
    }

    /**
     * Launches the step; the tokens come with {@link Launched#await}. A chunk may run one token past its
     * sequence's known tokens: the one previous (launched just before, not yet awaited) samples for it on the
     * device, named by a marker.
     */
    Launched launch(List<Scheduler.Chunk> chunks, Launched previous) {
        Inputs in = inputs(chunks, previous);
        Rows rows = rows(chunks, in, previous);
        var batch = new ForwardBatch(in.ids, in.attention, rows.logitRows);
        PendingRows pending = rows.onDevice > 0 || batch.hasMarkers()
                ? model.launchSampled(batch, cache, rows.rowSampling, previous == null ? null : previous.pending)
                : PendingRows.completed(SampledRows.allOnHost(model.forward(batch, cache)));
        return new Launched(chunks, rows, pending);
    }

    private Inputs inputs(List<Scheduler.Chunk> chunks, Launched previous) {
        int pad = padRows(chunks);
        int total = pad;
        for (Scheduler.Chunk c : chunks) {
            total += c.numTokens();
        }
        int[] ids = new int[total];          // [T] token ids, or markers for tokens still on the device
        int[] positions = new int[total];    // [T]
        int[] slots = new int[total];        // [T] block id · block size + offset
        int[] starts = new int[chunks.size() + pad + 1];
        int[][] tables = new int[chunks.size() + pad][];
        int[] lastRow = new int[chunks.size()]; // the chunk's last token row; -1 when it does not sample
        int t = 0;
        for (int s = 0; s < chunks.size(); s++) {
            Scheduler.Chunk c = chunks.get(s);
            Sequence seq = c.seq();
            starts[s] = t;
            tables[s] = kv.blockTable(seq.id);
            for (int p = c.start(); p < c.start() + c.numTokens(); p++, t++) {
                ids[t] = p < seq.length() ? seq.token(p) : pendingToken(seq, p, previous);
                positions[t] = p;
                slots[t] = kv.slot(seq.id, p);
            }
            lastRow[s] = c.start() + c.numTokens() >= seq.length() ? t - 1 : -1;
        }
        for (int s = chunks.size(); s < chunks.size() + pad; s++, t++) {   // token 0 at position 0 of padBlock
            starts[s] = t;
            tables[s] = new int[]{padBlock};
            slots[t] = padBlock * kv.blockSize();
        }
        starts[chunks.size() + pad] = t;
        return new Inputs(ids, new AttentionBatch(starts, positions, tables, slots, kv.blockSize()), lastRow, pad);
    }

    /** Padding rows for this step: up to the bucket of a decode-only step whose every row samples, else none. */
    private int padRows(List<Scheduler.Chunk> chunks) {
        if (!buckets.pads()) {
            return 0;
        }
        for (Scheduler.Chunk c : chunks) {
            if (c.numTokens() != 1 || c.start() + 1 < c.seq().length()) {
                return 0;   // a prefill chunk: prefill passes are not replayed as graphs
            }
        }
        int n = chunks.size();
        return Math.max(n, Math.min(buckets.padTo(n), maxRows)) - n;
    }

    /** The marker for seq's token at position p, which the previous step samples on the device. */
    private static int pendingToken(Sequence seq, int p, Launched previous) {
        int row = previous == null ? -1 : previous.deviceRow(seq);
        if (p != seq.length() || row < 0) {
            throw new IllegalStateException("position " + p + " of sequence " + seq.id + " (" + seq.length()
                    + " tokens known) is not the token the previous step samples on the device");
        }
        return PendingRows.marker(row);
    }

    /**
     * Logit rows: the device-sampled chunks', then the padding rows (greedy on the device, not any chunk's), then
     * the host-sampled chunks'.
     */
    private Rows rows(List<Scheduler.Chunk> chunks, Inputs in, Launched previous) {
        int[] lastRow = in.lastRow;
        int n = chunks.size();
        RowSampling[] perChunk = new RowSampling[n];
        int sampling = 0;
        int onDevice = 0;
        for (int s = 0; s < n; s++) {
            if (lastRow[s] < 0) {
                continue;
            }
            sampling++;
            var params = chunks.get(s).seq().request.sampling();
            if (deviceSampling && DeviceSampling.eligible(params, model.config().vocabSize())) {
                Scheduler.Chunk c = chunks.get(s);
                Sequence seq = c.seq();
                LogitEdits edits = seq.logitEdits();
                if (c.start() + c.numTokens() > seq.length() && DeviceSampling.editsFollowHistory(params)) {
                    edits = edits.withPendingRow(previous.deviceRow(seq));   // its input's marker names that row
                }
                perChunk[s] = DeviceSampling.row(params, seq.random, edits);
                onDevice++;
            }
        }
        int[] rowOfChunk = new int[n];
        int[] logitRows = new int[sampling + in.pad];
        RowSampling[] rowSampling = new RowSampling[sampling + in.pad];
        int firstPadToken = in.ids.length - in.pad;
        for (int i = 0; i < in.pad; i++) {
            logitRows[onDevice + i] = firstPadToken + i;
            rowSampling[onDevice + i] = RowSampling.greedy();
        }
        int nextDevice = 0;
        int nextHost = onDevice + in.pad;
        for (int s = 0; s < n; s++) {
            rowOfChunk[s] = -1;
            if (lastRow[s] >= 0) {
                int r = perChunk[s] != null ? nextDevice++ : nextHost++;
                rowOfChunk[s] = r;
                logitRows[r] = lastRow[s];
                rowSampling[r] = perChunk[s];
            }
        }
        return new Rows(perChunk, rowOfChunk, logitRows, rowSampling, onDevice + in.pad);
    }
}

package io.latentserve.server.engine;

import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.server.engine.kv.KvCacheManager;
import io.latentserve.server.engine.sample.DeviceSampling;

import java.util.Arrays;
import java.util.List;

/**
 * Turns one step's chunks into an explicit ForwardBatch and runs the model once for the whole batch. With
 * device sampling, the chunks whose requests the backend can sample (see {@link DeviceSampling}) get their
 * token from the backend and only the other chunks' logits come to the host.
 */
final class ModelRunner {
    private final CausalLM model;
    private final KvCache cache;
    private final KvCacheManager kv;
    private final boolean deviceSampling;

    /**
     * Per chunk, in chunk order: the token the backend sampled ({@code tokens[s] >= 0}), or the logits for the
     * host sampler, or neither for a chunk that only prefills.
     */
    record Results(int[] tokens, float[][] logits) {
    }

    ModelRunner(CausalLM model, KvCache cache, KvCacheManager kv, boolean deviceSampling) {
        this.model = model;
        this.cache = cache;
        this.kv = kv;
        this.deviceSampling = deviceSampling;
    }

    boolean deviceSampling() {
        return deviceSampling;
    }

    Results run(List<Scheduler.Chunk> chunks) {
        int total = 0;
        for (Scheduler.Chunk c : chunks) {
            total += c.numTokens();
        }
        int[] ids = new int[total];          // [T]
        int[] positions = new int[total];    // [T]
        int[] slots = new int[total];        // [T] block id · block size + offset
        int[] starts = new int[chunks.size() + 1];
        int[][] tables = new int[chunks.size()][];
        int[] lastRow = new int[chunks.size()]; // the chunk's last token row; -1 when it does not sample
        int t = 0;
        for (int s = 0; s < chunks.size(); s++) {
            Scheduler.Chunk c = chunks.get(s);
            Sequence seq = c.seq();
            starts[s] = t;
            tables[s] = kv.blockTable(seq.id);
            for (int p = c.start(); p < c.start() + c.numTokens(); p++, t++) {
                ids[t] = seq.token(p);
                positions[t] = p;
                slots[t] = kv.slot(seq.id, p);
            }
            lastRow[s] = c.samples() ? t - 1 : -1;
        }
        starts[chunks.size()] = t;
        var attention = new AttentionBatch(starts, positions, tables, slots, kv.blockSize());
        return sampleOrFetch(chunks, ids, attention, lastRow);
    }

    /**
     * Logit rows are listed with the device-sampled chunks first, so that the backend samples one run of rows
     * and copies one run to the host; the results go back to chunk order.
     */
    private Results sampleOrFetch(List<Scheduler.Chunk> chunks, int[] ids, AttentionBatch attention, int[] lastRow) {
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
            if (deviceSampling && DeviceSampling.eligible(params)) {
                perChunk[s] = DeviceSampling.row(params, chunks.get(s).seq().random);
                onDevice++;
            }
        }
        int[] rowOfChunk = new int[n];
        int[] logitRows = new int[sampling];
        RowSampling[] rowSampling = new RowSampling[sampling];
        int nextDevice = 0;
        int nextHost = onDevice;
        for (int s = 0; s < n; s++) {
            if (lastRow[s] >= 0) {
                int r = perChunk[s] != null ? nextDevice++ : nextHost++;
                rowOfChunk[s] = r;
                logitRows[r] = lastRow[s];
                rowSampling[r] = perChunk[s];
            }
        }
        var batch = new ForwardBatch(ids, attention, logitRows);
        SampledRows rows = onDevice > 0 ? model.forwardSampled(batch, cache, rowSampling)
                : SampledRows.allOnHost(model.forward(batch, cache));
        int[] tokens = new int[n];
        float[][] logits = new float[n][];
        Arrays.fill(tokens, SampledRows.NOT_SAMPLED);
        for (int s = 0; s < n; s++) {
            if (lastRow[s] >= 0) {
                int r = rowOfChunk[s];
                if (perChunk[s] != null && !rows.sampled(r)) {
                    throw new IllegalStateException("the backend did not sample logit row " + r + " it was asked to");
                }
                tokens[s] = rows.tokens()[r];
                logits[s] = rows.hostLogits()[r];
            }
        }
        return new Results(tokens, logits);
    }
}

package io.latentserve.server.engine;

import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.server.engine.kv.KvCacheManager;

import java.util.ArrayList;
import java.util.List;

/** Turns one step's chunks into an explicit ForwardBatch and runs the model once for the whole batch. */
final class ModelRunner {
    private final CausalLM model;
    private final KvCache cache;
    private final KvCacheManager kv;

    ModelRunner(CausalLM model, KvCache cache, KvCacheManager kv) {
        this.model = model;
        this.cache = cache;
        this.kv = kv;
    }

    /** Logits of the chunks that sample, in chunk order (null for chunks that only prefill). */
    float[][] run(List<Scheduler.Chunk> chunks) {
        int total = 0;
        for (Scheduler.Chunk c : chunks) {
            total += c.numTokens();
        }
        int[] ids = new int[total];          // [T]
        int[] positions = new int[total];    // [T]
        int[] slots = new int[total];        // [T] block id · block size + offset
        int[] starts = new int[chunks.size() + 1];
        int[][] tables = new int[chunks.size()][];
        List<Integer> logitRows = new ArrayList<>();
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
            if (c.samples()) {
                logitRows.add(t - 1);
            }
        }
        starts[chunks.size()] = t;
        var batch = new ForwardBatch(ids, new AttentionBatch(starts, positions, tables, slots, kv.blockSize()),
                logitRows.stream().mapToInt(Integer::intValue).toArray());
        float[][] logits = model.forward(batch, cache);
        float[][] perChunk = new float[chunks.size()][];
        int next = 0;
        for (int s = 0; s < chunks.size(); s++) {
            if (chunks.get(s).samples()) {
                perChunk[s] = logits[next++];
            }
        }
        return perChunk;
    }
}

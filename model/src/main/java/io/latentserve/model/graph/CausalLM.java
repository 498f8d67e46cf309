package io.latentserve.model.graph;

import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.LogitEdits;
import io.latentserve.model.backend.PendingRows;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;
import io.latentserve.model.config.ModelConfig;

/** A decoder-only language model whose forward pass runs one batch over a paged KV cache. */
public interface CausalLM extends AutoCloseable {

    ModelConfig config();

    Backend backend();

    /** An f32 KV cache for this model: numBlocks blocks of blockSize tokens in every layer. */
    default KvCache newKvCache(int numBlocks, int blockSize) {
        return newKvCache(numBlocks, blockSize, KvCacheDtype.F32);
    }

    /** A KV cache for this model whose values are stored as dtype. */
    default KvCache newKvCache(int numBlocks, int blockSize, KvCacheDtype dtype) {
        return backend().kvCache(config().numHiddenLayers(), numBlocks, blockSize, config().kvCacheWidth(), dtype);
    }

    /**
     * Runs the batch: writes each token's KV into its slot, and returns the f32 logits
     * [batch.logitRows().length][vocab] of the requested rows.
     */
    float[][] forward(ForwardBatch batch, KvCache cache);

    /**
     * As {@link #forward}, but the logit row r is sampled by the backend where {@code sampling[r]} is given and
     * the backend {@link Backend#samplesRows}: only the other rows' logits come to the host. The default runs
     * {@link #forward} and samples nothing.
     *
     * @param sampling one entry per logit row (batch.logitRows()), null where the caller samples
     */
    default SampledRows forwardSampled(ForwardBatch batch, KvCache cache, RowSampling[] sampling) {
        checkSampling(batch, sampling);
        return SampledRows.allOnHost(forward(batch, cache));
    }

    /**
     * As {@link #forwardSampled}, but the device-sampled rows' tokens may still be on their way when it returns
     * ({@link Backend#launchSampleRows}); and batch.tokenIds() may hold {@link PendingRows#marker markers}
     * naming the tokens previous sampled (async scheduling: the next step is launched before the host has seen
     * this one's tokens), and the rows' edits may count them ({@link LogitEdits#pendingRow}). The default resolves
     * the markers and the edits on the host (awaiting previous) and runs
     * {@link #forwardSampled}: every backend works, without overlap.
     *
     * @param previous the pass launched just before this one, or null (then the batch may hold no markers)
     */
    default PendingRows launchSampled(ForwardBatch batch, KvCache cache, RowSampling[] sampling, PendingRows previous) {
        checkSampling(batch, sampling);
        int[] ids = PendingRows.resolve(batch.tokenIds(), previous);
        ForwardBatch resolved = ids == batch.tokenIds() ? batch
                : new ForwardBatch(ids, batch.attention(), batch.logitRows());
        return PendingRows.completed(forwardSampled(resolved, cache, PendingRows.resolveEdits(sampling, previous)));
    }

    /** One sampling entry per logit row of the batch, checked before a forward pass writes any KV. */
    static void checkSampling(ForwardBatch batch, RowSampling[] sampling) {
        if (sampling.length != batch.logitRows().length) {
            throw new IllegalArgumentException(sampling.length + " sampling entries for " + batch.logitRows().length
                    + " logit rows");
        }
    }

    /** Releases the weights (unmaps the checkpoint). */
    @Override
    void close();
}

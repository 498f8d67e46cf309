package io.latentserve.model.backend;

/**
 * The paged KV cache of one model: per layer, numBlocks x blockSize rows of `width` values.
 * A token at position p of a sequence lives in row blockTable[p / blockSize] * blockSize + p % blockSize
 * (its slot); the block manager of the server decides which blocks a sequence owns.
 * For MLA the row is [normalized latent c (kv_lora_rank) ; roped k_pe (qk_rope_head_dim)];
 * for Llama it is [K (kvHeads·headDim) ; V (kvHeads·headDim)].
 */
public interface KvCache extends AutoCloseable {
    int numLayers();

    int numBlocks();

    int blockSize();

    int width();

    /** Bytes of cache per token across all layers. */
    long bytesPerToken();

    @Override
    void close();
}

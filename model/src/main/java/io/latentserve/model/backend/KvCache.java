package io.latentserve.model.backend;

/**
 * The paged KV cache of one model: per layer, numBlocks x blockSize rows of `width` values.
 * A token at position p of a sequence lives in row blockTable[p / blockSize] * blockSize + p % blockSize
 * (its slot); the block manager of the server decides which blocks a sequence owns.
 * For MLA the row is [normalized latent c (kv_lora_rank) ; roped k_pe (qk_rope_head_dim)];
 * for Llama it is [K (kvHeads·headDim) ; V (kvHeads·headDim)]. Values are stored as {@link #dtype()}: f32
 * exactly, or bf16 rounded to nearest even on write and widened exactly on read.
 */
public interface KvCache extends AutoCloseable {
    int numLayers();

    int numBlocks();

    int blockSize();

    int width();

    /** The element type values are stored in. */
    KvCacheDtype dtype();

    /** Bytes of cache per token across all layers: width x layers x the dtype's bytes per value. */
    long bytesPerToken();

    @Override
    void close();
}

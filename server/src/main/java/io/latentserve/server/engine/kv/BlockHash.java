package io.latentserve.server.engine.kv;

/**
 * A 128-bit key for one full block of a token prefix. Only an index key: equal keys do not prove
 * equal content, so every lookup is verified against the stored tokens (see {@link PrefixBlock}).
 */
public record BlockHash(long hi, long lo) {
    /** The parent key of a prompt's first block. */
    public static final BlockHash ROOT = new BlockHash(0L, 0L);
}

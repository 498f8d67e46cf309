package io.latentserve.server.engine.kv;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Computes the chained key of a full block: a function of the parent block's key and this block's
 * token ids, so that equal blocks under different prefixes get different keys. Injectable so that
 * tests can force collisions.
 */
@FunctionalInterface
public interface PrefixHasher {

    /** The key of tokens[from, to) under the given parent key. */
    BlockHash hash(BlockHash parent, int[] tokens, int from, int to);

    /**
     * SHA-256 over (parent key, token ids), truncated to 128 bits: strong enough that collisions
     * only cost a verification miss. One instance holds a MessageDigest, so it is not thread-safe;
     * each cache manager owns its own.
     */
    static PrefixHasher sha256() {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime ships SHA-256", e);
        }
        return (parent, tokens, from, to) -> {
            ByteBuffer buf = ByteBuffer.allocate(16 + 4 * (to - from));
            buf.putLong(parent.hi()).putLong(parent.lo());
            for (int i = from; i < to; i++) {
                buf.putInt(tokens[i]);
            }
            digest.reset();
            ByteBuffer out = ByteBuffer.wrap(digest.digest(buf.array()));
            return new BlockHash(out.getLong(), out.getLong());
        };
    }
}

package io.latentserve.server.engine.kv;

import java.util.Arrays;

/**
 * What a cached full block holds, kept so that a key lookup can be verified: the block's token ids
 * and the identity of the block content it was computed after. {@code contentId} is unique for the
 * life of a pool, so a chain of verified (tokens, parent identity) pairs proves that the whole
 * prefix matches, even if keys collide at any depth.
 */
public record PrefixBlock(int blockId, BlockHash hash, long contentId, long parentContentId, int[] tokenIds) {

    /** The parent identity of a prompt's first block. */
    public static final long ROOT_CONTENT_ID = -1L;

    public PrefixBlock {
        tokenIds = tokenIds.clone();
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** True when this block holds exactly tokens[from, from + size) computed after {@code parentContentId}. */
    public boolean holds(long parentContentId, int[] tokens, int from) {
        int to = from + tokenIds.length;
        return this.parentContentId == parentContentId
                && to <= tokens.length
                && Arrays.equals(tokenIds, 0, tokenIds.length, tokens, from, to);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PrefixBlock p && p.blockId == blockId && p.hash.equals(hash)
                && p.contentId == contentId && p.parentContentId == parentContentId
                && Arrays.equals(p.tokenIds, tokenIds);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(contentId) * 31 + blockId;
    }

    @Override
    public String toString() {
        return "PrefixBlock[block=" + blockId + ", content=" + contentId + ", parent=" + parentContentId
                + ", tokens=" + tokenIds.length + "]";
    }
}

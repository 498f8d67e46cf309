package io.latentserve.model.backend;

/** Which form of MLA attention to run (MODEL_SPEC 3.1 vs 3.3); both give the same result to rounding. */
public enum MlaMode {
    /**
     * Absorbed for decode tokens and for short chunks that continue a longer cached context (a prefix-cache hit,
     * the last piece of a chunked prompt); decompressed for the other prefill chunks. See {@link #absorbs}.
     */
    AUTO,
    /** Always decompress k_nope and v from the latent through kv_b_proj. */
    DECOMPRESSED,
    /** Always fold W_UK into the query and W_UV after attention, attending over the latent rows. */
    ABSORBED;

    /**
     * Most new tokens of one sequence that AUTO attends in the absorbed form when they follow a cached prefix.
     * Per key and head, decompressing costs the kv_b expansion once per chunk (r(dn + dv) multiply-adds: 131,072
     * at DeepSeek-V2's shapes), while absorbing costs each query 2r + dr instead of dn + dr + dv (768 more), so
     * on arithmetic alone absorbing wins up to ~170 queries. The absorbed GPU kernels read the latent rows once
     * per query rather than once per chunk, so the limit stays well below that.
     */
    public static final int AUTO_ABSORBED_MAX_TOKENS = 32;

    /**
     * Whether a sequence's chunk of newTokens tokens, ending at contextLength keys, runs absorbed in this mode.
     * AUTO absorbs a single token, and a chunk of at most {@link #AUTO_ABSORBED_MAX_TOKENS} tokens after a cached
     * prefix at least as long as the chunk: there the decompressed form would re-expand mostly cached keys. A
     * fresh prompt stays decompressed, whatever its length.
     */
    public boolean absorbs(int newTokens, int contextLength) {
        return switch (this) {
            case ABSORBED -> true;
            case DECOMPRESSED -> false;
            case AUTO -> newTokens == 1
                    || newTokens <= AUTO_ABSORBED_MAX_TOKENS && contextLength - newTokens >= newTokens;
        };
    }
}

package io.latentserve.model.backend;

/** Which form of MLA attention to run (MODEL_SPEC 3.1 vs 3.3); both give the same result. */
public enum MlaMode {
    /** Decompressed for prefill chunks (several tokens of a sequence), absorbed for single decode tokens. */
    AUTO,
    /** Always decompress k_nope and v from the latent through kv_b_proj. */
    DECOMPRESSED,
    /** Always fold W_UK into the query and W_UV after attention, attending over the latent rows. */
    ABSORBED
}

package io.latentserve.model.backend;

/** How rotary embedding pairs dimensions (MODEL_SPEC 3.2); mixing them up produces garbage. */
public enum RopeStyle {
    /** DeepSeek-V2: pair i = (x[2i], x[2i+1]). */
    INTERLEAVED,
    /** Llama / DeepSeek LLM: pair i = (x[i], x[i + d/2]). */
    SPLIT_HALF
}

package io.latentserve.model.backend;

/** MoE routing of DeepSeek-V2 (MODEL_SPEC 3.4): softmax scores, greedy or group-limited top-k. */
public record RouterConfig(int numExperts, int topK, boolean groupLimited, int numGroups, int topkGroup,
                           boolean normTopkProb, float routedScalingFactor) {
}

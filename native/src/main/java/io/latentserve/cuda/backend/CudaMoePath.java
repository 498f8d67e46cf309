package io.latentserve.cuda.backend;

/**
 * How {@link CudaBackend} runs the routed experts of one MoE call. {@link #AUTO} is what the server uses;
 * the others force a path, for benchmarks that put the paths side by side and for tests.
 */
public enum CudaMoePath {
    /**
     * Fused kernels up to the threshold (-Dlatentserve.cuda.fusedMoeMaxTokens, default
     * {@link CudaFusedMoe#MAX_TOKENS}) when they take the experts: on tensor cores ({@link #FUSED_TC}) where
     * {@link CudaFusedMoe#tensorCores} says so (bf16 weights, widths multiples of 16, not turned off with
     * -Dlatentserve.cuda.moeTensorCores=false), else on CUDA cores ({@link #FUSED}); above the threshold (or
     * when they cannot) grouped cuBLAS GEMMs when cuBLAS has them, or, with -Dlatentserve.cuda.moeWgmma=true, the
     * Hopper kernels ({@link #FUSED_WGMMA}) where they apply; else per-expert cuBLAS GEMMs.
     */
    AUTO,
    /** ls_moe_sort, ls_moe_gate_up, ls_moe_down, ls_moe_combine on CUDA cores, no host round trip. */
    FUSED,
    /**
     * As {@link #FUSED} with the expert products on tensor cores: ls_moe_gate_up_tc and ls_moe_down_tc (bf16
     * weights, hidden and intermediate widths multiples of 16).
     */
    FUSED_TC,
    /**
     * As {@link #FUSED} with the expert products on Hopper warpgroup tensor cores: ls_moe_gate_up_wgmma and
     * ls_moe_down_wgmma (64-row x 128-column wgmma tiles; compute capability 9.0 only, bf16 weights, widths
     * multiples of 16), for prefill-sized batches.
     */
    FUSED_WGMMA,
    /** ls_moe_sort, the offsets to the host, two cublasGemmGroupedBatchedEx calls on tensor cores. */
    GROUPED,
    /** The routing to the host, three cuBLAS GEMMs per touched expert. */
    PER_EXPERT
}

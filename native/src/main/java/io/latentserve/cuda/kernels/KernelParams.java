package io.latentserve.cuda.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.List;

/**
 * The one by-value argument of a LatentServe kernel: a record mirroring a C struct of
 * cuda-kernels/include/latentserve_params.h, field for field (KernelParamsLayoutTest checks sizes and
 * offsets against the header). Pointers are device addresses as {@code long}, 0 for "absent".
 */
public sealed interface KernelParams permits EmbeddingParams, RmsNormParams, AddParams, SiluMulParams, RopeParams,
        CopyRowsParams, SplitBf16Params, AttentionParams, MlaAbsorbParams, MlaApplyUvParams, MoeRouteParams,
        MoeCombineParams, SampleParams, LogitEditsParams, FillHashedParams,
        MlaDecodeParams, MlaCombineParams, CausalSoftmaxParams,
        MoeSortParams, MoeGateUpParams, MoeDownParams, GemvParams, MlaDecodeTcParams, MoeGateUpTcParams,
        MoeDownTcParams, MoeGateUpWgmmaParams, MoeDownWgmmaParams,
        MlaPrefillTcParams, MlaLatentParams {

    /** Every parameter layout, with the kernel that takes it. */
    List<StructLayout> LAYOUTS = List.of(EmbeddingParams.LAYOUT, RmsNormParams.LAYOUT, AddParams.LAYOUT,
            SiluMulParams.LAYOUT, RopeParams.LAYOUT, CopyRowsParams.LAYOUT, SplitBf16Params.LAYOUT,
            AttentionParams.LAYOUT, MlaAbsorbParams.LAYOUT, MlaApplyUvParams.LAYOUT, MoeRouteParams.LAYOUT,
            MoeCombineParams.LAYOUT, SampleParams.LAYOUT, LogitEditsParams.LAYOUT, FillHashedParams.LAYOUT,
            MlaDecodeParams.LAYOUT, MlaCombineParams.LAYOUT, CausalSoftmaxParams.LAYOUT,
            MoeSortParams.LAYOUT, MoeGateUpParams.LAYOUT, MoeDownParams.LAYOUT, GemvParams.LAYOUT,
            MlaDecodeTcParams.LAYOUT, MoeGateUpTcParams.LAYOUT, MoeDownTcParams.LAYOUT, MoeGateUpWgmmaParams.LAYOUT,
            MoeDownWgmmaParams.LAYOUT, MlaPrefillTcParams.LAYOUT, MlaLatentParams.LAYOUT);

    /** Every kernel of the fatbin: the kernels of LAYOUTS in order, then those sharing a struct (ls_mla_decode_tma). */
    List<String> KERNELS = List.of(EmbeddingParams.KERNEL, RmsNormParams.KERNEL, AddParams.KERNEL,
            SiluMulParams.KERNEL, RopeParams.KERNEL, CopyRowsParams.KERNEL, SplitBf16Params.KERNEL,
            AttentionParams.KERNEL, MlaAbsorbParams.KERNEL, MlaApplyUvParams.KERNEL, MoeRouteParams.KERNEL,
            MoeCombineParams.KERNEL, SampleParams.KERNEL, LogitEditsParams.KERNEL, FillHashedParams.KERNEL,
            MlaDecodeParams.KERNEL, MlaCombineParams.KERNEL, CausalSoftmaxParams.KERNEL,
            MoeSortParams.KERNEL, MoeGateUpParams.KERNEL, MoeDownParams.KERNEL, GemvParams.KERNEL,
            MlaDecodeTcParams.KERNEL, MoeGateUpTcParams.KERNEL, MoeDownTcParams.KERNEL, MoeGateUpWgmmaParams.KERNEL,
            MoeDownWgmmaParams.KERNEL, MlaPrefillTcParams.KERNEL, MlaLatentParams.KERNEL, MlaDecodeTcParams.BULK_KERNEL);

    /** The extern "C" name of the kernel that takes these parameters. */
    String kernel();

    StructLayout layout();

    /** The struct's bytes in native memory of the arena, ready for cuLaunchKernel. */
    MemorySegment write(Arena arena);
}

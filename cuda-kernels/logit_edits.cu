/*
 * The logit edits of a request (bias, repetition / presence / frequency penalties) on the device, so that a row
 * with edits is sampled by ls_sample like any other instead of travelling to the host sampler (102,400 floats at
 * V2's vocabulary). The rule is LogitEdits in the model module: each stage computes in f64 from the f32 value
 * and rounds to f32. The intrinsics below (round to nearest, never contracted into an FMA whatever -fmad says)
 * and the order of the operations are Java's, so the edited logits are the same bits as LogitEdits.apply's.
 */
#include "include/ls_common.cuh"

/* A logit after every stage Java applies to it (LogitEdits.edit), stage by stage. */
__device__ __forceinline__ float ls_edited_logit(float v, float bias, int generated, int seen, double repetition,
                                                 double presence, double frequency) {
    if (bias != 0.0f) {   /* LogitEdits.biased */
        v = bias <= static_cast<float>(LS_LOGIT_BAN) ? -INFINITY
                : __double2float_rn(__dadd_rn(static_cast<double>(v), static_cast<double>(bias)));
    }
    if (repetition != 1.0 && seen != 0) {   /* LogitEdits.repeated */
        const double d = static_cast<double>(v);
        v = __double2float_rn(v > 0.0f ? __ddiv_rn(d, repetition) : __dmul_rn(d, repetition));
    }
    if (generated > 0 && (presence != 0.0 || frequency != 0.0)) {   /* LogitEdits.penalized */
        const double penalty = __dadd_rn(__dmul_rn(frequency, static_cast<double>(generated)), presence);
        v = __double2float_rn(__dsub_rn(static_cast<double>(v), penalty));
    }
    return v;
}

/* Edits one logit unless it is NaN or +inf (a broken row stays broken for ls_sample, whatever the edits). */
__device__ __forceinline__ void ls_edit_logit(float* logit, float bias, int generated, int seen, double repetition,
                                              double presence, double frequency) {
    const float v = *logit;
    if (v < INFINITY) {
        *logit = ls_edited_logit(v, bias, generated, seen, repetition, presence, frequency);
    }
}

/*
 * One block per row, its threads over the row's entries (distinct tokens: no two threads touch one logit). The
 * pending token, if any, is found among the entries by the thread that holds it; when none does, thread 0 adds
 * it after a block barrier.
 */
extern "C" __global__ void __launch_bounds__(LS_THREADS) ls_logit_edits(const LsLogitEditsParams p) {
    const int r = blockIdx.x;
    const int* entryStart = reinterpret_cast<const int*>(p.entryStart);
    const int begin = entryStart[r];
    const int end = entryStart[r + 1];
    const int pendingRow = reinterpret_cast<const int*>(p.pendingRow)[r];
    if (begin == end && pendingRow < 0) {
        return;   /* block-uniform: no barrier is skipped by some threads only */
    }
    const int pending = pendingRow >= 0 ? reinterpret_cast<const int*>(p.previousTokens)[pendingRow] : -1;
    float* logits = reinterpret_cast<float*>(p.logits) + static_cast<long long>(r) * p.logitsStride;
    const int* tokens = reinterpret_cast<const int*>(p.tokens);
    const float* bias = reinterpret_cast<const float*>(p.bias);
    const int* generated = reinterpret_cast<const int*>(p.generated);
    const int* seen = reinterpret_cast<const int*>(p.seen);
    const double repetition = reinterpret_cast<const double*>(p.repetition)[r];
    const double presence = reinterpret_cast<const double*>(p.presence)[r];
    const double frequency = reinterpret_cast<const double*>(p.frequency)[r];
    __shared__ int pendingFound;
    if (threadIdx.x == 0) {
        pendingFound = 0;
    }
    __syncthreads();
    for (int e = begin + static_cast<int>(threadIdx.x); e < end; e += static_cast<int>(blockDim.x)) {
        const int isPending = tokens[e] == pending;
        if (isPending) {
            pendingFound = 1;   /* distinct tokens: at most one thread writes */
        }
        ls_edit_logit(logits + tokens[e], bias[e], generated[e] + isPending, seen[e] | isPending, repetition,
                      presence, frequency);
    }
    __syncthreads();
    if (threadIdx.x == 0 && pending >= 0 && !pendingFound) {
        ls_edit_logit(logits + pending, 0.0f, 1, 1, repetition, presence, frequency);
    }
}

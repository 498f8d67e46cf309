package io.latentserve.cuda.backend;

import io.latentserve.model.backend.ExpertWeights;

import java.util.List;
import java.util.Optional;

/**
 * The device addresses of a MoE layer's expert weights, when every expert has the same dtype and the same
 * shapes (gate_proj and up_proj [inter, hidden], down_proj [hidden, inter]): what both batched expert
 * paths (the fused kernels' tables, the grouped cuBLAS GEMMs) need.
 */
record ExpertAddresses(long[] gate, long[] up, long[] down, int dtype, int hidden, int inter) {

    /** The addresses, or empty for no experts or experts of mixed dtypes or shapes. */
    static Optional<ExpertAddresses> of(List<ExpertWeights> experts) {
        int n = experts.size();
        if (n == 0) {
            return Optional.empty();
        }
        CudaWeight first = CudaWeight.of(experts.getFirst().gateProj(), "expert gate_proj");
        int inter = first.rows();
        int hidden = first.cols();
        long[][] addresses = new long[3][n];
        for (int e = 0; e < n; e++) {
            ExpertWeights w = experts.get(e);
            CudaWeight[] mats = {CudaWeight.of(w.gateProj(), "expert gate_proj"),
                    CudaWeight.of(w.upProj(), "expert up_proj"), CudaWeight.of(w.downProj(), "expert down_proj")};
            for (int m = 0; m < 3; m++) {
                CudaWeight c = mats[m];
                boolean shape = m < 2 ? c.rows() == inter && c.cols() == hidden
                        : c.rows() == hidden && c.cols() == inter;
                if (!shape || c.dtype() != first.dtype()) {
                    return Optional.empty();
                }
                addresses[m][e] = c.address();
            }
        }
        return Optional.of(new ExpertAddresses(addresses[0], addresses[1], addresses[2], first.dtype(), hidden,
                inter));
    }

    int count() {
        return gate.length;
    }

    /** Whether every weight starts on a 16-byte boundary (the fused kernels' vector loads). */
    boolean aligned16() {
        for (long[] a : new long[][]{gate, up, down}) {
            for (long address : a) {
                if (address % 16 != 0) {
                    return false;
                }
            }
        }
        return true;
    }
}

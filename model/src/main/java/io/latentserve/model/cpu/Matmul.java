package io.latentserve.model.cpu;

import io.latentserve.model.checkpoint.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * out[T, N] = x[T, K] · w[N, K]ᵀ, f32 accumulation, weights widened on the fly.
 * Decode (small T) is bound by reading the weights once, so BF16 rows are register-blocked four at a
 * time against x split once into even and odd halves (BENCHMARKS.md, "a measured hint").
 */
final class Matmul {
    /** Tokens processed per pass over a block of weight rows, so x stays in L2 during prefill. */
    private static final int TOKEN_TILE = 32;
    private static final int ROW_BLOCK = 4;

    private Matmul() {
    }

    static void matmul(Parallel parallel, CpuActivation x, CpuWeight w, CpuActivation out) {
        check(x, w, out);
        if (w.dtype() == DType.BF16 && w.cols() % 2 == 0) {
            bf16(parallel, x, w, out);
        } else {
            generic(parallel, x, w, out);
        }
    }

    /** The plain reference: one scalar dot product per output, for tests. */
    static void scalar(CpuActivation x, CpuWeight w, CpuActivation out) {
        check(x, w, out);
        for (int t = 0; t < x.rows(); t++) {
            for (int n = 0; n < w.rows(); n++) {
                float sum = 0;
                for (int k = 0; k < w.cols(); k++) {
                    sum += x.get(t, k) * w.get(n, k);
                }
                out.data()[out.index(t, n)] = sum;
            }
        }
    }

    private static void check(CpuActivation x, CpuWeight w, CpuActivation out) {
        if (x.cols() != w.cols() || out.cols() != w.rows() || out.rows() != x.rows()) {
            throw new IllegalArgumentException("matmul shapes: x " + x.rows() + "x" + x.cols() + ", w " + w.rows()
                    + "x" + w.cols() + ", out " + out.rows() + "x" + out.cols());
        }
    }

    private static void generic(Parallel parallel, CpuActivation x, CpuWeight w, CpuActivation out) {
        float[][] xs = new float[x.rows()][];
        for (int t = 0; t < x.rows(); t++) {
            xs[t] = x.copyRow(t);
        }
        parallel.forRange(w.rows(), 16, (from, to) -> {
            for (int n = from; n < to; n++) {
                for (int t = 0; t < xs.length; t++) {
                    out.data()[out.index(t, n)] = w.dotRow(n, xs[t], 0);
                }
            }
        });
    }

    private static void bf16(Parallel parallel, CpuActivation x, CpuWeight w, CpuActivation out) {
        int tokens = x.rows();
        int pairs = w.cols() / 2;
        float[][] even = new float[tokens][pairs];
        float[][] odd = new float[tokens][pairs];
        for (int t = 0; t < tokens; t++) {
            int base = x.index(t, 0);
            for (int p = 0; p < pairs; p++) {
                even[t][p] = x.data()[base + 2 * p];
                odd[t][p] = x.data()[base + 2 * p + 1];
            }
        }
        int blocks = (w.rows() + ROW_BLOCK - 1) / ROW_BLOCK;
        parallel.forRange(blocks, 4, (from, to) -> {
            for (int t0 = 0; t0 < tokens; t0 += TOKEN_TILE) {
                int t1 = Math.min(tokens, t0 + TOKEN_TILE);
                for (int b = from; b < to; b++) {
                    int row = b * ROW_BLOCK;
                    if (row + ROW_BLOCK <= w.rows()) {
                        int t = t0;
                        for (; t + 4 <= t1; t += 4) {
                            fourRowsFourTokens(w, row, even, odd, out, t);
                        }
                        for (; t < t1; t++) {
                            fourRows(w, row, even[t], odd[t], out, t);
                        }
                    } else {
                        for (int r = row; r < w.rows(); r++) {
                            for (int t = t0; t < t1; t++) {
                                out.data()[out.index(t, r)] = oneRow(w, r, even[t], odd[t]);
                            }
                        }
                    }
                }
            }
        });
    }

    private static void fourRows(CpuWeight w, int row, float[] even, float[] odd, CpuActivation out, int t) {
        var seg = w.data();
        int lanes = VectorKernels.F.length();
        int pairs = even.length;
        long rowBytes = 2L * w.cols();
        long b0 = w.rowByteOffset(row);
        long b1 = b0 + rowBytes;
        long b2 = b1 + rowBytes;
        long b3 = b2 + rowBytes;
        FloatVector a0 = FloatVector.zero(VectorKernels.F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int p = 0;
        for (; p + lanes <= pairs; p += lanes) {
            FloatVector xe = FloatVector.fromArray(VectorKernels.F, even, p);
            FloatVector xo = FloatVector.fromArray(VectorKernels.F, odd, p);
            long off = 4L * p;
            IntVector w0 = VectorKernels.loadPairs(seg, b0 + off);
            IntVector w1 = VectorKernels.loadPairs(seg, b1 + off);
            IntVector w2 = VectorKernels.loadPairs(seg, b2 + off);
            IntVector w3 = VectorKernels.loadPairs(seg, b3 + off);
            a0 = VectorKernels.oddOf(w0).fma(xo, VectorKernels.evenOf(w0).fma(xe, a0));
            a1 = VectorKernels.oddOf(w1).fma(xo, VectorKernels.evenOf(w1).fma(xe, a1));
            a2 = VectorKernels.oddOf(w2).fma(xo, VectorKernels.evenOf(w2).fma(xe, a2));
            a3 = VectorKernels.oddOf(w3).fma(xo, VectorKernels.evenOf(w3).fma(xe, a3));
        }
        float s0 = VectorKernels.sum(a0);
        float s1 = VectorKernels.sum(a1);
        float s2 = VectorKernels.sum(a2);
        float s3 = VectorKernels.sum(a3);
        for (; p < pairs; p++) {
            s0 += w.get(row, 2 * p) * even[p] + w.get(row, 2 * p + 1) * odd[p];
            s1 += w.get(row + 1, 2 * p) * even[p] + w.get(row + 1, 2 * p + 1) * odd[p];
            s2 += w.get(row + 2, 2 * p) * even[p] + w.get(row + 2, 2 * p + 1) * odd[p];
            s3 += w.get(row + 3, 2 * p) * even[p] + w.get(row + 3, 2 * p + 1) * odd[p];
        }
        int o = out.index(t, row);
        float[] d = out.data();
        d[o] = s0;
        d[o + 1] = s1;
        d[o + 2] = s2;
        d[o + 3] = s3;
    }

    /**
     * Prefill: a 4-row x 4-token tile, so each unpacked weight vector feeds four tokens and each x vector
     * four rows (16 accumulators). The per-element arithmetic is the same as fourRows (same fma order), so
     * a token's result does not depend on whether it fell into a tile: batch invariance holds.
     */
    private static void fourRowsFourTokens(CpuWeight w, int row, float[][] even, float[][] odd, CpuActivation out,
                                           int t) {
        fourByTwo(w, row, even, odd, out, t);
        fourByTwo(w, row, even, odd, out, t + 2);
    }

    private static void fourByTwo(CpuWeight w, int row, float[][] even, float[][] odd, CpuActivation out, int t) {
        var seg = w.data();
        var f = VectorKernels.F;
        int lanes = f.length();
        int pairs = even[t].length;
        long rowBytes = 2L * w.cols();
        long b0 = w.rowByteOffset(row);
        long b1 = b0 + rowBytes;
        long b2 = b1 + rowBytes;
        long b3 = b2 + rowBytes;
        float[] e0 = even[t];
        float[] e1 = even[t + 1];
        float[] o0 = odd[t];
        float[] o1 = odd[t + 1];
        FloatVector a00 = FloatVector.zero(f);
        FloatVector a01 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector a20 = a00;
        FloatVector a21 = a00;
        FloatVector a30 = a00;
        FloatVector a31 = a00;
        int p = 0;
        for (; p + lanes <= pairs; p += lanes) {
            FloatVector xe0 = FloatVector.fromArray(f, e0, p);
            FloatVector xo0 = FloatVector.fromArray(f, o0, p);
            FloatVector xe1 = FloatVector.fromArray(f, e1, p);
            FloatVector xo1 = FloatVector.fromArray(f, o1, p);
            long off = 4L * p;
            IntVector v = VectorKernels.loadPairs(seg, b0 + off);
            FloatVector we = VectorKernels.evenOf(v);
            FloatVector wo = VectorKernels.oddOf(v);
            a00 = wo.fma(xo0, we.fma(xe0, a00));
            a01 = wo.fma(xo1, we.fma(xe1, a01));
            v = VectorKernels.loadPairs(seg, b1 + off);
            we = VectorKernels.evenOf(v);
            wo = VectorKernels.oddOf(v);
            a10 = wo.fma(xo0, we.fma(xe0, a10));
            a11 = wo.fma(xo1, we.fma(xe1, a11));
            v = VectorKernels.loadPairs(seg, b2 + off);
            we = VectorKernels.evenOf(v);
            wo = VectorKernels.oddOf(v);
            a20 = wo.fma(xo0, we.fma(xe0, a20));
            a21 = wo.fma(xo1, we.fma(xe1, a21));
            v = VectorKernels.loadPairs(seg, b3 + off);
            we = VectorKernels.evenOf(v);
            wo = VectorKernels.oddOf(v);
            a30 = wo.fma(xo0, we.fma(xe0, a30));
            a31 = wo.fma(xo1, we.fma(xe1, a31));
        }
        store(w, row, even, odd, out, t, p, a00, 0, 0);
        store(w, row, even, odd, out, t, p, a01, 0, 1);
        store(w, row, even, odd, out, t, p, a10, 1, 0);
        store(w, row, even, odd, out, t, p, a11, 1, 1);
        store(w, row, even, odd, out, t, p, a20, 2, 0);
        store(w, row, even, odd, out, t, p, a21, 2, 1);
        store(w, row, even, odd, out, t, p, a30, 3, 0);
        store(w, row, even, odd, out, t, p, a31, 3, 1);
    }

    /** Lane sum plus the scalar tail from pair p on, for row + r and token t + j. */
    private static void store(CpuWeight w, int row, float[][] even, float[][] odd, CpuActivation out, int t, int p,
                              FloatVector acc, int r, int j) {
        float sum = VectorKernels.sum(acc);
        float[] e = even[t + j];
        float[] o = odd[t + j];
        for (int q = p; q < e.length; q++) {
            sum += w.get(row + r, 2 * q) * e[q] + w.get(row + r, 2 * q + 1) * o[q];
        }
        out.data()[out.index(t + j, row + r)] = sum;
    }

    private static float oneRow(CpuWeight w, int row, float[] even, float[] odd) {
        int lanes = VectorKernels.F.length();
        int pairs = even.length;
        long base = w.rowByteOffset(row);
        FloatVector acc = FloatVector.zero(VectorKernels.F);
        int p = 0;
        for (; p + lanes <= pairs; p += lanes) {
            IntVector v = VectorKernels.loadPairs(w.data(), base + 4L * p);
            acc = VectorKernels.oddOf(v).fma(FloatVector.fromArray(VectorKernels.F, odd, p),
                    VectorKernels.evenOf(v).fma(FloatVector.fromArray(VectorKernels.F, even, p), acc));
        }
        float sum = VectorKernels.sum(acc);
        for (; p < pairs; p++) {
            sum += w.get(row, 2 * p) * even[p] + w.get(row, 2 * p + 1) * odd[p];
        }
        return sum;
    }
}

package io.latentserve.model.cpu;

import io.latentserve.model.backend.RopeStyle;
import io.latentserve.model.backend.RopeTable;

/** Row-wise and element-wise CPU kernels (small next to the matmuls, so kept plain). */
final class Elementwise {
    private Elementwise() {
    }

    static void embedding(CpuWeight table, int[] ids, CpuActivation out) {
        if (out.rows() != ids.length || out.cols() != table.cols()) {
            throw new IllegalArgumentException("embedding output must be [" + ids.length + ", " + table.cols() + "]");
        }
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0 || ids[t] >= table.rows()) {
                throw new IllegalArgumentException("token id " + ids[t] + " outside the vocabulary (0.." + (table.rows() - 1) + ")");
            }
            table.copyRow(ids[t], out.data(), out.index(t, 0));
        }
    }

    static void rmsNorm(CpuActivation x, CpuWeight weight, float eps, CpuActivation out) {
        int n = x.cols();
        if (weight.rows() * weight.cols() != n || out.cols() != n || out.rows() != x.rows()) {
            throw new IllegalArgumentException("rmsNorm over " + n + " values with a weight of "
                    + weight.rows() * weight.cols());
        }
        float[] w = new float[n];
        weight.copyRow(0, w, 0);
        for (int t = 0; t < x.rows(); t++) {
            int xo = x.index(t, 0);
            float ss = 0;
            for (int i = 0; i < n; i++) {
                ss += x.data()[xo + i] * x.data()[xo + i];
            }
            float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
            int oo = out.index(t, 0);
            for (int i = 0; i < n; i++) {
                out.data()[oo + i] = x.data()[xo + i] * inv * w[i];
            }
        }
    }

    static void add(CpuActivation acc, CpuActivation x) {
        sameShape(acc, x);
        for (int t = 0; t < acc.rows(); t++) {
            VectorKernels.axpy(1f, x.data(), x.index(t, 0), acc.data(), acc.index(t, 0), acc.cols());
        }
    }

    static void siluMul(CpuActivation gate, CpuActivation up, CpuActivation out) {
        sameShape(gate, up);
        sameShape(gate, out);
        for (int t = 0; t < gate.rows(); t++) {
            int g = gate.index(t, 0);
            int u = up.index(t, 0);
            int o = out.index(t, 0);
            for (int i = 0; i < gate.cols(); i++) {
                float z = gate.data()[g + i];
                out.data()[o + i] = z / (1f + (float) StrictMath.exp(-z)) * up.data()[u + i];
            }
        }
    }

    static void rope(CpuActivation x, int numHeads, int headStride, int ropeOffset, RopeTable rope, int[] positions) {
        int half = rope.invFreq().length;
        if (positions.length != x.rows() || (numHeads - 1) * headStride + ropeOffset + 2 * half > x.cols()) {
            throw new IllegalArgumentException("rope: " + numHeads + " heads of stride " + headStride
                    + " do not fit " + x.cols() + " columns, or positions do not match rows");
        }
        float[] cos = new float[half];
        float[] sin = new float[half];
        for (int t = 0; t < x.rows(); t++) {
            for (int i = 0; i < half; i++) {
                float angle = positions[t] * rope.invFreq()[i]; // f32 product, as the reference computes it
                cos[i] = (float) StrictMath.cos(angle) * rope.amplitude();
                sin[i] = (float) StrictMath.sin(angle) * rope.amplitude();
            }
            for (int h = 0; h < numHeads; h++) {
                int base = x.index(t, h * headStride + ropeOffset);
                rotate(x.data(), base, cos, sin, rope.style());
            }
        }
    }

    private static void rotate(float[] d, int base, float[] cos, float[] sin, RopeStyle style) {
        int half = cos.length;
        for (int i = 0; i < half; i++) {
            int ia = style == RopeStyle.INTERLEAVED ? base + 2 * i : base + i;
            int ib = style == RopeStyle.INTERLEAVED ? ia + 1 : base + i + half;
            float a = d[ia];
            float b = d[ib];
            d[ia] = a * cos[i] - b * sin[i];
            d[ib] = a * sin[i] + b * cos[i];
        }
    }

    private static void sameShape(CpuActivation a, CpuActivation b) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw new IllegalArgumentException("shapes differ: " + a.rows() + "x" + a.cols() + " vs " + b.rows() + "x" + b.cols());
        }
    }
}

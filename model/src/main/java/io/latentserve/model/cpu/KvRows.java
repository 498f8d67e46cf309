package io.latentserve.model.cpu;

import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.checkpoint.Floats;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The values of one cache layer, [slots, width] row-major, read as f32. Attention fetches a layer's KvRows
 * once per call and then works through it row by row: the dtype is resolved per row (one bimorphic call), never
 * per element, and the F32 store's dot/axpy are exactly VectorKernels' on the array (as before this existed).
 * Offsets are value indices into the layer (slot · width + column).
 */
sealed interface KvRows permits KvRows.F32, KvRows.Bf16 {

    /** Σ x[xOff + i] · value[off + i] over n values, in VectorKernels.dot's order. */
    float dot(float[] x, int xOff, int off, int n);

    /** y[yOff + i] += alpha · value[off + i] over n values. */
    void axpy(float alpha, int off, float[] y, int yOff, int n);

    /** Widens n values from off into dst[dstOff ..]. */
    void read(int off, float[] dst, int dstOff, int n);

    /** Stores n values of src (rounded to the store's dtype) at off. */
    void write(int off, float[] src, int srcOff, int n);

    static KvRows allocate(KvCacheDtype dtype, int values) {
        return switch (dtype) {
            case F32 -> new F32(new float[values]);
            case BF16 -> new Bf16(new short[values]);
        };
    }

    /** f32 values held as written. */
    record F32(float[] values) implements KvRows {
        @Override
        public float dot(float[] x, int xOff, int off, int n) {
            return VectorKernels.dot(x, xOff, values, off, n);
        }

        @Override
        public void axpy(float alpha, int off, float[] y, int yOff, int n) {
            VectorKernels.axpy(alpha, values, off, y, yOff, n);
        }

        @Override
        public void read(int off, float[] dst, int dstOff, int n) {
            System.arraycopy(values, off, dst, dstOff, n);
        }

        @Override
        public void write(int off, float[] src, int srcOff, int n) {
            System.arraycopy(src, srcOff, values, off, n);
        }
    }

    /**
     * bf16 bits: written rounded to nearest even ({@link Floats#floatToBf16}, as ls_to_bf16 on the device), widened
     * exactly (bits << 16) when read. dot and axpy keep VectorKernels' lane order and fma, so attention over this
     * store equals, bit for bit, attention over an f32 store holding the same rounded values.
     */
    record Bf16(short[] values) implements KvRows {
        @Override
        public float dot(float[] x, int xOff, int off, int n) {
            var fs = VectorKernels.F;
            FloatVector acc = FloatVector.zero(fs);
            int i = 0;
            for (; i + fs.length() <= n; i += fs.length()) {
                acc = FloatVector.fromArray(fs, x, xOff + i).fma(widen(off + i), acc);
            }
            float sum = VectorKernels.sum(acc);
            for (; i < n; i++) {
                sum += x[xOff + i] * Floats.bf16ToFloat(values[off + i]);
            }
            return sum;
        }

        @Override
        public void axpy(float alpha, int off, float[] y, int yOff, int n) {
            var fs = VectorKernels.F;
            FloatVector a = FloatVector.broadcast(fs, alpha);
            int i = 0;
            for (; i + fs.length() <= n; i += fs.length()) {
                widen(off + i).fma(a, FloatVector.fromArray(fs, y, yOff + i)).intoArray(y, yOff + i);
            }
            for (; i < n; i++) {
                y[yOff + i] += alpha * Floats.bf16ToFloat(values[off + i]);
            }
        }

        @Override
        public void read(int off, float[] dst, int dstOff, int n) {
            for (int i = 0; i < n; i++) {
                dst[dstOff + i] = Floats.bf16ToFloat(values[off + i]);
            }
        }

        @Override
        public void write(int off, float[] src, int srcOff, int n) {
            for (int i = 0; i < n; i++) {
                values[off + i] = Floats.floatToBf16(src[srcOff + i]);
            }
        }

        /** F.length() values from off, widened to f32. */
        private FloatVector widen(int off) {
            ShortVector s = ShortVector.fromArray(VectorKernels.S, values, off);
            IntVector i = (IntVector) s.convertShape(VectorOperators.S2I, VectorKernels.I, 0);
            return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }
    }
}

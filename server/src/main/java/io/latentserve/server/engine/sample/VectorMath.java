package io.latentserve.server.engine.sample;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one vocabulary-wide transcendental of sampling, vectorized: a full-vocabulary pass of
 * {@code Math.exp} costs ~0.6 ms per token at 102400 entries, the vector form about a sixth of that.
 * Double precision throughout, so results agree with the plain form to rounding.
 */
final class VectorMath {
    private static final VectorSpecies<Double> SPECIES = DoubleVector.SPECIES_PREFERRED;

    private VectorMath() {
    }

    /** out[i] = exp(x[i] - shift) for i in [0, n); returns the sum. -inf entries give 0. */
    static double expShifted(double[] x, int n, double shift, double[] out) {
        int i = 0;
        DoubleVector sum = DoubleVector.zero(SPECIES);
        for (int bound = SPECIES.loopBound(n); i < bound; i += SPECIES.length()) {
            DoubleVector e = DoubleVector.fromArray(SPECIES, x, i).sub(shift).lanewise(VectorOperators.EXP);
            e.intoArray(out, i);
            sum = sum.add(e);
        }
        double total = sum.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            out[i] = Math.exp(x[i] - shift);
            total += out[i];
        }
        return total;
    }

    /** The plain form of {@link #expShifted}, the reference its test compares against. */
    static double expShiftedPlain(double[] x, int n, double shift, double[] out) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            out[i] = Math.exp(x[i] - shift);
            total += out[i];
        }
        return total;
    }
}

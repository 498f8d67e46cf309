package io.latentserve.server.engine.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VectorMathTest {

    @Test
    void expShiftedMatchesThePlainLoop() {
        SplittableRandom r = new SplittableRandom(5);
        for (int n : new int[] {0, 1, 7, 8, 9, 63, 1000, 102_400}) {
            double[] x = new double[n + 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = i % 11 == 3 ? Double.NEGATIVE_INFINITY : r.nextGaussian() * 20;
            }
            double[] fast = new double[x.length];
            double[] plain = new double[x.length];
            double sumFast = VectorMath.expShifted(x, n, 17.5, fast);
            double sumPlain = VectorMath.expShiftedPlain(x, n, 17.5, plain);
            assertEquals(sumPlain, sumFast, Math.abs(sumPlain) * 1e-12, "n = " + n);
            for (int i = 0; i < n; i++) {
                assertEquals(plain[i], fast[i], plain[i] * 1e-13, "n = " + n + ", i = " + i);
            }
            for (int i = n; i < x.length; i++) {
                assertEquals(0.0, fast[i], "nothing written past n");
            }
        }
    }
}

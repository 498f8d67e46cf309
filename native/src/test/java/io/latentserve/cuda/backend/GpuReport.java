package io.latentserve.cuda.backend;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The results of the GPU tests: one table line per check on stdout (kernel, shape, error, tolerance,
 * PASS/FAIL) and one JSON object per line appended to the file named by -Dlatentserve.report, which
 * cuda-kernels/device-check.sh turns into its report. Then the check is asserted.
 */
final class GpuReport {
    private GpuReport() {
    }

    /** Max |got − want| over max |want|: the error relative to the tensor's scale (NaN counts as infinite). */
    static double maxRelErr(float[] got, float[] want) {
        if (got.length != want.length) {
            return Double.POSITIVE_INFINITY;
        }
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            double d = Math.abs((double) got[i] - want[i]);
            if (Double.isNaN(d)) {
                return Double.POSITIVE_INFINITY;
            }
            worst = Math.max(worst, d);
        }
        return scale == 0 ? worst : worst / scale;
    }

    static double maxAbsErr(float[] got, float[] want) {
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) got[i] - want[i]);
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        return worst;
    }

    /** Records a relative-error check and asserts it. */
    static void check(String kernel, String shape, double maxRelErr, double tolerance) {
        record(kernel, shape, "rel", maxRelErr, tolerance, maxRelErr <= tolerance);
        assertTrue(maxRelErr <= tolerance, kernel + " " + shape + ": max relative error " + maxRelErr + " > " + tolerance);
    }

    /** Records an absolute-error check and asserts it. */
    static void checkAbs(String kernel, String shape, double maxAbsErr, double tolerance) {
        record(kernel, shape, "abs", maxAbsErr, tolerance, maxAbsErr <= tolerance);
        assertTrue(maxAbsErr <= tolerance, kernel + " " + shape + ": max absolute error " + maxAbsErr + " > " + tolerance);
    }

    /** Records an exact check (equal token ids, expert choices) and asserts it. */
    static void checkExact(String kernel, String shape, int mismatches, int total) {
        record(kernel, shape, "mismatches", mismatches, 0, mismatches == 0);
        assertTrue(mismatches == 0, kernel + " " + shape + ": " + mismatches + " of " + total + " differ");
    }

    static synchronized void record(String kernel, String shape, String metric, double error, double tolerance,
                                    boolean pass) {
        System.out.printf(Locale.ROOT, "| %-28s | %-52s | %-10s | %10.3e | %9.1e | %s |%n", kernel, shape, metric, error,
                tolerance, pass ? "PASS" : "FAIL");
        String file = System.getProperty("latentserve.report");
        if (file == null || file.isBlank()) {
            return;
        }
        String json = String.format(Locale.ROOT,
                "{\"kernel\":\"%s\",\"shape\":\"%s\",\"metric\":\"%s\",\"error\":%s,\"tolerance\":%s,\"pass\":%s}%n",
                escape(kernel), escape(shape), metric, number(error), number(tolerance), pass);
        try {
            Files.writeString(Path.of(file), json, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String number(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4e", v) : "null";
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}

package io.latentserve.cuda.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * One line of the device benchmark: what was measured, at which shape, and its fraction of the bound
 * (computed from the model's config and the ceilings measured in the same run).
 *
 * @param value    the measured figure, in unit
 * @param bound    the same figure at the hardware limit, in unit (NaN when there is none)
 * @param note     how the bound was counted, or what the figure includes
 */
public record BenchRow(String name, String shape, double value, double bound, String unit, String note) {

    public double fraction() {
        return value / bound;
    }

    public String tableLine() {
        return String.format(Locale.ROOT, "| %-34s | %-26s | %12s | %12s | %-8s | %8s | %s |", name, shape,
                number(value), number(bound), unit,
                Double.isNaN(bound) ? "-" : String.format(Locale.ROOT, "%.3f", fraction()),
                note);
    }

    public static String tableHeader() {
        return String.format(Locale.ROOT, "| %-34s | %-26s | %12s | %12s | %-8s | %8s | %s |%n", "benchmark", "shape",
                "measured", "bound", "unit", "fraction", "note")
                + "|------------------------------------|----------------------------|--------------|--------------|"
                + "----------|----------|------|";
    }

    public String json() {
        return String.format(Locale.ROOT, "{\"name\":%s,\"shape\":%s,\"value\":%s,\"bound\":%s,\"unit\":%s,"
                + "\"fraction\":%s,\"note\":%s}", quote(name), quote(shape), jsonNumber(value), jsonNumber(bound),
                quote(unit), jsonNumber(fraction()), quote(note));
    }

    private static String number(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String jsonNumber(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }

    public static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /**
     * Writes a JSON report whole or not at all (a temporary file moved over it): the suites rewrite their report
     * after every row and may be stopped by a timeout at any moment.
     */
    public static void writeReport(Path file, String json) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, json);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}

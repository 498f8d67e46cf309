package io.latentserve.model;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory-size options: a byte count ("1073741824"), a size ("8GiB", "512MB", "1.5 GiB"; KiB/MiB/GiB/TiB
 * are powers of 1024, KB/MB/GB/TB powers of 1000, B bytes), or a fraction in (0, 1] of the memory
 * available, written with a decimal point ("0.9", "1.0"). One grammar for every memory option: the server's
 * --kv-cache-memory and the CUDA backend's arena sizes.
 */
public final class MemorySize {
    private static final Pattern SIZE = Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*([a-zA-Z]*)\\s*");

    private MemorySize() {
    }

    /**
     * @param option    the option's name, for messages (e.g. "--kv-cache-memory")
     * @param available what a fraction is taken of
     */
    public static long parse(String option, String value, long available) {
        Matcher m = SIZE.matcher(value == null ? "" : value);
        if (!m.matches()) {
            throw invalid(option, value);
        }
        BigDecimal number = new BigDecimal(m.group(1));
        String unit = m.group(2).toUpperCase(Locale.ROOT);
        if (unit.isEmpty() && m.group(1).contains(".")) {
            if (number.signum() <= 0 || number.compareTo(BigDecimal.ONE) > 0) {
                throw new IllegalArgumentException(option + " fraction must be in (0, 1], got " + value);
            }
            return number.multiply(BigDecimal.valueOf(Math.max(0, available))).longValue();
        }
        long multiplier = switch (unit) {
            case "", "B" -> 1L;
            case "KB" -> 1_000L;
            case "MB" -> 1_000_000L;
            case "GB" -> 1_000_000_000L;
            case "TB" -> 1_000_000_000_000L;
            case "KIB" -> 1L << 10;
            case "MIB" -> 1L << 20;
            case "GIB" -> 1L << 30;
            case "TIB" -> 1L << 40;
            default -> throw invalid(option, value);
        };
        BigDecimal bytes = number.multiply(BigDecimal.valueOf(multiplier));
        if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException(option + " too large: " + value);
        }
        return bytes.longValue();
    }

    /** "1.5 GiB", "512.0 MiB", "100 B": for messages. */
    public static String human(long bytes) {
        if (Math.abs(bytes) < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double value = bytes;
        int unit = -1;
        while (Math.abs(value) >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    private static IllegalArgumentException invalid(String option, String value) {
        return new IllegalArgumentException(option + " must be bytes (1073741824), a size (8GiB, 512MB)"
                + " or a fraction of free memory (0.9), got '" + value + "'");
    }
}

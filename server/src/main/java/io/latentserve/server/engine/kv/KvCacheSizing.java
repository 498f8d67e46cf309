package io.latentserve.server.engine.kv;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns a memory budget into a block count, and parses the {@code --kv-cache-memory} option. */
public final class KvCacheSizing {
    private static final Pattern SIZE = Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*([a-zA-Z]*)\\s*");

    private KvCacheSizing() {
    }

    /** Whole blocks that fit in {@code bytes}, given the cache bytes of one token across all layers. */
    public static int blocksFor(long bytes, int bytesPerTokenAllLayers, int blockSize) {
        if (bytes < 0 || bytesPerTokenAllLayers < 1 || blockSize < 1) {
            throw new IllegalArgumentException("need bytes >= 0, bytesPerTokenAllLayers >= 1 and blockSize >= 1, got "
                    + bytes + ", " + bytesPerTokenAllLayers + ", " + blockSize);
        }
        long blocks = bytes / ((long) bytesPerTokenAllLayers * blockSize);
        return (int) Math.min(blocks, Integer.MAX_VALUE);
    }

    /**
     * Parses a {@code --kv-cache-memory} value into bytes. Accepted: a byte count ("1073741824"),
     * a size with a unit ("8GiB", "512MB", "1.5 GiB"; KiB/MiB/GiB/TiB are powers of 1024,
     * KB/MB/GB/TB powers of 1000, B bytes), or a fraction in (0, 1] of {@code availableBytes}
     * written with a decimal point ("0.9", "1.0").
     */
    public static long parseMemory(String value, long availableBytes) {
        Matcher m = SIZE.matcher(value == null ? "" : value);
        if (!m.matches()) {
            throw invalid(value);
        }
        BigDecimal number = new BigDecimal(m.group(1));
        String unit = m.group(2).toUpperCase(Locale.ROOT);
        if (unit.isEmpty() && m.group(1).contains(".")) {
            if (number.signum() <= 0 || number.compareTo(BigDecimal.ONE) > 0) {
                throw new IllegalArgumentException("--kv-cache-memory fraction must be in (0, 1], got " + value);
            }
            return number.multiply(BigDecimal.valueOf(availableBytes)).longValue();
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
            default -> throw invalid(value);
        };
        BigDecimal bytes = number.multiply(BigDecimal.valueOf(multiplier));
        if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException("--kv-cache-memory too large: " + value);
        }
        return bytes.longValue();
    }

    private static IllegalArgumentException invalid(String value) {
        return new IllegalArgumentException("--kv-cache-memory must be bytes (1073741824), a size (8GiB, 512MB)"
                + " or a fraction of free memory (0.9), got '" + value + "'");
    }
}

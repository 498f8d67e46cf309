package io.latentserve.cuda.bench;

import io.latentserve.model.backend.KvCacheDtype;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What one DeviceBench run measured: its rows (printed as they come), the profiles of where the time goes, and
 * the benches that failed; kept in the JSON report (--json) that cuda-kernels/bench/report.py reads.
 */
final class BenchReport {
    private final Path json;                  // null: no JSON report
    private final int layers;
    private final KvCacheDtype kvCacheDtype;
    private final PrintStream out;
    private final List<BenchRow> rows = new ArrayList<>();
    private final List<Profile> profiles = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();
    /** The GPU the run is on, once the context is open (the JSON report names it). */
    private String gpuName;

    BenchReport(Path json, int layers, KvCacheDtype kvCacheDtype, PrintStream out) {
        this.json = json;
        this.layers = layers;
        this.kvCacheDtype = kvCacheDtype;
        this.out = out;
    }

    void gpu(String name) {
        gpuName = name;
    }

    /**
     * Adds a row, prints it and rewrites the JSON report at once, so a run cut short (device-check.sh bounds
     * each part with a timeout) still reports what it measured.
     */
    void row(BenchRow row) {
        rows.add(row);
        out.println(row.tableLine());
        out.flush();
        if (json != null && gpuName != null) {
            save();
        }
    }

    /** A bench that fails is reported and skipped: the rest of the suite still runs. */
    void guarded(String what, Runnable bench) {
        try {
            bench.run();
        } catch (RuntimeException e) {
            out.println("bench " + what + " failed: " + e);
            errors.add(what + ": " + e);
        }
    }

    /** Where the time of `what` went: milliseconds per operation. */
    void profile(String what, Map<String, Double> millis) {
        profiles.add(new Profile(what, millis));
    }

    /** The end of the run: every row again as one table, and the JSON report written; the rows. */
    List<BenchRow> finish() {
        out.println();
        out.println(BenchRow.tableHeader());
        rows.forEach(r -> out.println(r.tableLine()));
        if (json != null) {
            save();
            out.println("report: " + json);
        }
        return rows;
    }

    private void save() {
        String text = "{\"gpu\":" + BenchRow.quote(gpuName) + ",\"layers\":" + layers + ",\"kvCacheDtype\":"
                + BenchRow.quote(kvCacheDtype.cliName()) + ",\"rows\":["
                + rows.stream().map(BenchRow::json).collect(Collectors.joining(",\n")) + "],\n\"profiles\":["
                + profiles.stream().map(Profile::json).collect(Collectors.joining(",\n")) + "],\n\"errors\":["
                + errors.stream().map(BenchRow::quote).collect(Collectors.joining(",")) + "]}\n";
        BenchRow.writeReport(json, text);
    }

    private record Profile(String what, Map<String, Double> millis) {
        String json() {
            return "{\"what\":" + BenchRow.quote(what) + ",\"ms\":{" + millis.entrySet().stream()
                    .map(e -> BenchRow.quote(e.getKey()) + ":" + String.format(Locale.ROOT, "%.4f", e.getValue()))
                    .collect(Collectors.joining(",")) + "}}";
        }
    }
}

package io.latentserve.model;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds ../shared/testdata (set by the build as -Dlatentserve.testdata); tests skip visibly without it. */
public final class TestData {
    private TestData() {
    }

    public static Path root() {
        String prop = System.getProperty("latentserve.testdata");
        if (prop == null || prop.isBlank()) {
            prop = System.getenv().getOrDefault("LATENTSERVE_TESTDATA", "../shared/testdata");
        }
        return Path.of(prop).toAbsolutePath().normalize();
    }

    /** The sub-folder, or a skipped test (with the reason printed) when it is absent. */
    public static Path require(String sub) {
        Path dir = root().resolve(sub);
        if (!Files.isDirectory(dir)) {
            String msg = "SKIPPED: test data folder " + dir + " is absent";
            System.err.println(msg);
            Assumptions.abort(msg);
        }
        return dir;
    }
}

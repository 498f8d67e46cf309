package io.latentserve.model.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MatmulPrecisionTest {

    @Test
    void parsesTheCommandLineNamesInAnyCase() {
        assertEquals(MatmulPrecision.HIGH, MatmulPrecision.parse("high"));
        assertEquals(MatmulPrecision.MEDIUM, MatmulPrecision.parse("medium"));
        assertEquals(MatmulPrecision.MEDIUM, MatmulPrecision.parse(" MEDIUM "));
        for (MatmulPrecision p : MatmulPrecision.values()) {
            assertEquals(p, MatmulPrecision.parse(p.cliName()), "round trip");
            assertEquals(p.cliName(), p.toString(), "logs print the command-line name");
        }
    }

    @Test
    void otherIsTheOtherChoice() {
        assertEquals(MatmulPrecision.MEDIUM, MatmulPrecision.HIGH.other());
        assertEquals(MatmulPrecision.HIGH, MatmulPrecision.MEDIUM.other());
    }

    @Test
    void anUnknownNameIsAClearError() {
        for (String bad : new String[]{"highest", "low", "bf16", "", null}) {
            var e = assertThrows(IllegalArgumentException.class, () -> MatmulPrecision.parse(bad));
            assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains("high")
                    && e.getMessage().contains("medium"), e.getMessage());
        }
    }

    @Test
    void theSystemPropertyIsTheFallbackAndHighTheDefault() {
        String saved = System.getProperty(MatmulPrecision.PROPERTY);
        try {
            System.clearProperty(MatmulPrecision.PROPERTY);
            assertEquals(MatmulPrecision.HIGH, MatmulPrecision.fromSystemProperty());
            System.setProperty(MatmulPrecision.PROPERTY, "medium");
            assertEquals(MatmulPrecision.MEDIUM, MatmulPrecision.fromSystemProperty());
            System.setProperty(MatmulPrecision.PROPERTY, "fast");
            var e = assertThrows(IllegalArgumentException.class, MatmulPrecision::fromSystemProperty);
            assertTrue(e.getMessage().contains("-D" + MatmulPrecision.PROPERTY) && e.getMessage().contains("fast"),
                    e.getMessage());
        } finally {
            if (saved == null) {
                System.clearProperty(MatmulPrecision.PROPERTY);
            } else {
                System.setProperty(MatmulPrecision.PROPERTY, saved);
            }
        }
    }
}

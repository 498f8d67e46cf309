package io.latentserve.model.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MlaModeTest {
    @Test
    void autoAbsorbsDecodeTokensAndShortChunksAfterACachedPrefix() {
        assertTrue(MlaMode.AUTO.absorbs(1, 1), "a one-token prompt");
        assertTrue(MlaMode.AUTO.absorbs(1, 4096), "a decode token");
        assertTrue(MlaMode.AUTO.absorbs(8, 2048), "a short follow-up after a prefix-cache hit");
        assertTrue(MlaMode.AUTO.absorbs(MlaMode.AUTO_ABSORBED_MAX_TOKENS, 2 * MlaMode.AUTO_ABSORBED_MAX_TOKENS),
                "the longest chunk, after a prefix as long as itself");
        assertFalse(MlaMode.AUTO.absorbs(MlaMode.AUTO_ABSORBED_MAX_TOKENS + 1, 4096), "a longer chunk");
        assertFalse(MlaMode.AUTO.absorbs(8, 8), "a fresh prompt");
        assertFalse(MlaMode.AUTO.absorbs(8, 15), "a prefix shorter than the chunk");
    }

    @Test
    void theFixedModesIgnoreTheShape() {
        assertTrue(MlaMode.ABSORBED.absorbs(500, 500));
        assertFalse(MlaMode.DECOMPRESSED.absorbs(1, 4096));
    }
}

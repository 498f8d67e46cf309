package io.latentserve.server.engine.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KvCacheSizingTest {

    @Test
    void blocksForDividesByTheBytesOfABlock() {
        // DeepSeek-V2-Lite: 27 layers x 576 values x 2 bytes (bf16) per token.
        int perToken = 27 * 576 * 2;
        assertEquals((8L << 30) / (perToken * 64L), KvCacheSizing.blocksFor(8L << 30, perToken, 64));
        assertEquals(0, KvCacheSizing.blocksFor(perToken * 64L - 1, perToken, 64));
        assertEquals(1, KvCacheSizing.blocksFor(perToken * 64L, perToken, 64));
        assertThrows(IllegalArgumentException.class, () -> KvCacheSizing.blocksFor(1, 0, 64));
    }

    @Test
    void parsesSizesWithBinaryAndDecimalUnits() {
        long avail = 80L << 30;
        assertEquals(8L << 30, KvCacheSizing.parseMemory("8GiB", avail));
        assertEquals(512_000_000L, KvCacheSizing.parseMemory("512MB", avail));
        assertEquals(1_073_741_824L, KvCacheSizing.parseMemory("1073741824", avail));
        assertEquals(3L << 29, KvCacheSizing.parseMemory("1.5 gib", avail));
        assertEquals(2048, KvCacheSizing.parseMemory("2KiB", avail));
        assertEquals(7, KvCacheSizing.parseMemory("7B", avail));
    }

    @Test
    void parsesFractionsOfTheAvailableMemory() {
        assertEquals(900, KvCacheSizing.parseMemory("0.9", 1000));
        assertEquals(1000, KvCacheSizing.parseMemory("1.0", 1000));
        assertThrows(IllegalArgumentException.class, () -> KvCacheSizing.parseMemory("1.5", 1000));
        assertThrows(IllegalArgumentException.class, () -> KvCacheSizing.parseMemory("0.0", 1000));
    }

    @Test
    void rejectsGarbageNamingTheOption() {
        for (String bad : new String[] {"", "GiB", "-1", "8 parsecs", "1e9", null}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> KvCacheSizing.parseMemory(bad, 1000));
            assertTrue(e.getMessage().contains("--kv-cache-memory"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> KvCacheSizing.parseMemory("99999999TiB", 1));
    }
}

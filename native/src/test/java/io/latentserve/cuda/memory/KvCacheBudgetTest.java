package io.latentserve.cuda.memory;

import io.latentserve.model.MemorySize;
import io.latentserve.cuda.CudaMemoryPlan;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvCacheBudgetTest {
    private static final long GIB = 1L << 30;

    @Test
    void sizesUnitsAndPlainBytes() {
        long free = 100 * GIB;
        assertEquals(8 * GIB, KvCacheBudget.kvBytes(free, "8GiB"));
        assertEquals(512_000_000L, KvCacheBudget.kvBytes(free, "512MB"));
        assertEquals(1536L << 20, KvCacheBudget.kvBytes(free, "1.5 GiB"));
        assertEquals(1073741824L, KvCacheBudget.kvBytes(free, "1073741824"));
        assertEquals(4096, KvCacheBudget.kvBytes(free, "4 kib"));
    }

    @Test
    void fractionsAreOfFreeMemory() {
        assertEquals(96_636_764_160L, KvCacheBudget.kvBytes(100 * GIB, "0.9"));
        assertEquals(50 * GIB, KvCacheBudget.kvBytes(100 * GIB, "0.5"));
        assertEquals(100 * GIB, KvCacheBudget.kvBytes(100 * GIB, "1.0"));
    }

    @Test
    void refusesMoreThanIsFreeAndBadValues() {
        IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                () -> KvCacheBudget.kvBytes(10 * GIB, "16GiB"));
        assertEquals("--kv-cache-memory 16GiB asks for 16.0 GiB but only 10.0 GiB of device memory is free after"
                + " the weights and activations", tooBig.getMessage());
        for (String bad : new String[] {"", "lots", "1.5", "0.0", "-1GiB", "8 parsecs", null}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> KvCacheBudget.kvBytes(10 * GIB, bad), String.valueOf(bad));
            assertTrue(e.getMessage().startsWith("--kv-cache-memory"), e.getMessage());
        }
    }

    @Test
    void humanSizes() {
        assertEquals("100 B", MemorySize.human(100));
        assertEquals("1.0 KiB", MemorySize.human(1024));
        assertEquals("1.5 GiB", MemorySize.human(1536L << 20));
    }

    @Test
    void theMemoryPlanSplitsFreeMemoryActivationsWeightsThenCache() {
        CudaMemoryPlan plan = new CudaMemoryPlan("0.5", "0.9", "2GiB");
        CudaMemoryPlan.Sizes sizes = plan.resolve(102 * GIB);
        assertEquals(2 * GIB, sizes.activationBytes());
        assertEquals(50 * GIB, sizes.weightBytes());
        assertEquals((long) (0.9 * (50 * GIB - CudaMemoryPlan.RESERVE_BYTES)), sizes.kvBytes());

        CudaMemoryPlan absolute = new CudaMemoryPlan("40GiB", "8GiB", "1GiB");
        assertEquals(new CudaMemoryPlan.Sizes(40 * GIB, 8 * GIB, GIB), absolute.resolve(80 * GIB));
    }

    @Test
    void theMemoryPlanSaysWhenThingsDoNotFit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CudaMemoryPlan("70GiB", "0.9", "2GiB").resolve(72 * GIB));
        assertTrue(e.getMessage().contains("exceed the 72.0 GiB of free device memory"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CudaMemoryPlan("1GiB", "0.9", "100GiB").resolve(10 * GIB));
        IllegalArgumentException kv = assertThrows(IllegalArgumentException.class,
                () -> new CudaMemoryPlan("10GiB", "50GiB", "1GiB").resolve(40 * GIB));
        assertTrue(kv.getMessage().startsWith("--kv-cache-memory 50GiB asks for"), kv.getMessage());
    }
}

package io.latentserve.model.backend;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DecodeBucketsTest {

    @Test
    void padsToTheSmallestBucketThatHoldsTheRows() {
        DecodeBuckets b = DecodeBuckets.of(2, 4, 8);
        assertEquals(2, b.padTo(1));
        assertEquals(2, b.padTo(2));
        assertEquals(4, b.padTo(3));
        assertEquals(8, b.padTo(5));
        assertEquals(64, b.padTo(9), "beyond the last bucket: multiples of 64");
        assertEquals(128, b.padTo(65));
        assertTrue(b.pads());
    }

    @Test
    void noneLeavesEveryBatchAlone() {
        assertFalse(DecodeBuckets.NONE.pads());
        assertEquals(37, DecodeBuckets.NONE.padTo(37));
    }

    @Test
    void badBucketsAndBatchesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> DecodeBuckets.of(4, 2));
        assertThrows(IllegalArgumentException.class, () -> DecodeBuckets.of(0, 2));
        assertThrows(IllegalArgumentException.class, () -> DecodeBuckets.of(2, 2));
        assertThrows(IllegalArgumentException.class, () -> DecodeBuckets.GRAPHS.padTo(0));
    }

    /** The CUDA graphs' buckets: every batch fits one, which pads to itself, and padding stays within 1/8 at 64+. */
    @ParameterizedTest(name = "{0} rows")
    @ValueSource(ints = {1, 2, 3, 7, 8, 9, 56, 57, 65, 129, 255, 256, 257, 300, 1000})
    void graphsBucketsHoldEveryBatch(int rows) {
        int bucket = DecodeBuckets.GRAPHS.padTo(rows);
        assertTrue(bucket >= rows, rows + " -> " + bucket);
        assertEquals(bucket, DecodeBuckets.GRAPHS.padTo(bucket), "a bucket pads to itself");
        if (rows >= 64) {
            assertTrue(bucket - rows <= Math.max(rows / 4, 63), rows + " -> " + bucket);
        }
    }
}

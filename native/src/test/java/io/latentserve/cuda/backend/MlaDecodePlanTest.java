package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.KernelLimits;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The split planning rules of ls_mla_decode, on the host (no GPU). */
class MlaDecodePlanTest {
    static final int H200_SMS = 132;

    static int[] filled(int n, int v) {
        int[] a = new int[n];
        Arrays.fill(a, v);
        return a;
    }

    static int[] identity(int n) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        return a;
    }

    /** Every row's chunks tile 0..len exactly, in order, none empty, the row's items consecutive. */
    static void assertCovers(MlaDecodePlan p, int[] seqOf, int[] lengths) {
        assertEquals(lengths.length, p.rows());
        assertEquals(0, p.splitBase()[0]);
        for (int w = 0; w < lengths.length; w++) {
            int next = 0;
            assertTrue(p.splits(w) >= 1 && p.splits(w) <= KernelLimits.MLA_MAX_SPLITS, "splits of row " + w);
            for (int i = p.splitBase()[w]; i < p.splitBase()[w + 1]; i++) {
                int[] item = Arrays.copyOfRange(p.work(), 4 * i, 4 * i + 4);
                assertEquals(w, item[0]);
                assertEquals(seqOf[w], item[1]);
                assertEquals(next, item[2], "chunk start of row " + w);
                assertTrue(item[3] > item[2], "empty chunk " + Arrays.toString(item));
                assertTrue(item[3] - item[2] <= p.chunk(), "chunk longer than planned");
                next = item[3];
            }
            assertEquals(lengths[w], next, "row " + w + " covered up to its context");
        }
        assertEquals(p.splitBase()[lengths.length], p.numWork());
    }

    @Test
    void shortContextsNeverSplit() {
        int[] lengths = {1, 63, 64, 65, 128};
        MlaDecodePlan p = MlaDecodePlan.of(identity(5), lengths, 16, H200_SMS);
        assertCovers(p, identity(5), lengths);
        assertEquals(5, p.numWork());
        assertTrue(!p.needsCombine());
    }

    @Test
    void oneLongSequenceSpreadsOverTheGpuDownToTheMinimumChunk() {
        int[] lengths = {4096};
        MlaDecodePlan p = MlaDecodePlan.of(new int[]{0}, lengths, 16, H200_SMS);
        assertCovers(p, new int[]{0}, lengths);
        assertEquals(MlaDecodePlan.DEFAULT_MIN_CHUNK, p.chunk());
        assertEquals(4096 / 128, p.numWork());   // 32 blocks: the minimum chunk, not the SM count, limits it
        MlaDecodePlan small = MlaDecodePlan.of(new int[]{0}, lengths, 16, H200_SMS, 64);
        assertCovers(small, new int[]{0}, lengths);
        assertEquals(64, small.numWork());
    }

    @Test
    void blocksFillWholeWaves() {
        // 64 x 4K with 16 heads: 2 splits each = 128 blocks, one wave of 132 SMs (3 would need two waves)
        int[] lengths = filled(64, 4096);
        MlaDecodePlan p = MlaDecodePlan.of(identity(64), lengths, 16, H200_SMS);
        assertCovers(p, identity(64), lengths);
        assertEquals(128, p.numWork() * p.headGroups());
        // 3 x 4K: 44 splits each would be 132 blocks; the minimum chunk allows 32 each (96 blocks)
        int[] three = filled(3, 4096);
        MlaDecodePlan q = MlaDecodePlan.of(identity(3), three, 16, H200_SMS);
        assertCovers(q, identity(3), three);
        assertTrue(q.numWork() <= H200_SMS, q.toString());
        assertEquals(96, q.numWork());
    }

    @Test
    void manyRowsAlreadyFillTheGpuSoNothingSplits() {
        int[] lengths = filled(256, 1024);
        MlaDecodePlan p = MlaDecodePlan.of(identity(256), lengths, 16, H200_SMS);
        assertCovers(p, identity(256), lengths);
        assertEquals(256, p.numWork());
    }

    @Test
    void oneLongRowAmongShortOnesIsCutToMatchThem() {
        int[] lengths = new int[100];
        Arrays.fill(lengths, 200);
        lengths[17] = 8000;
        MlaDecodePlan p = MlaDecodePlan.of(identity(100), lengths, 16, H200_SMS);
        assertCovers(p, identity(100), lengths);
        assertTrue(p.splits(17) > 1, p.toString());
        assertEquals(1, p.splits(0));
        assertTrue(p.numWork() <= 2 * H200_SMS, p.toString());
    }

    @Test
    void headGroupsMultiplyTheBlocks() {
        int[] lengths = filled(8, 4096);
        MlaDecodePlan p = MlaDecodePlan.of(identity(8), lengths, 128, H200_SMS);
        assertCovers(p, identity(8), lengths);
        assertEquals(8, p.headGroups());
        assertTrue(p.numWork() * p.headGroups() % H200_SMS < H200_SMS, p.toString());
        assertTrue(p.numWork() * 8 <= 2 * H200_SMS, p.toString());
    }

    @Test
    void chunksAreTileMultiplesAndEvenedOut() {
        int[] lengths = {1000};
        MlaDecodePlan p = MlaDecodePlan.of(new int[]{3}, lengths, 16, 4);
        assertCovers(p, new int[]{3}, lengths);
        assertEquals(0, p.chunk() % KernelLimits.MLA_TILE);
        for (int i = 0; i + 1 < p.numWork(); i++) {
            assertEquals(0, (p.work()[4 * i + 3] - p.work()[4 * i + 2]) % KernelLimits.MLA_TILE);
        }
    }

    @Test
    void tensorCoreTileMakesChunksOf32Keys() {
        int[] lengths = {1000, 4000, 77};
        MlaDecodePlan p = MlaDecodePlan.of(identity(3), lengths, 16, H200_SMS, MlaDecodePlan.DEFAULT_MIN_CHUNK,
                KernelLimits.MLA_TC_TILE);
        assertCovers(p, identity(3), lengths);
        assertEquals(0, p.chunk() % KernelLimits.MLA_TC_TILE);
        for (int i = 0; i < p.numWork(); i++) {
            int end = p.work()[4 * i + 3];
            boolean lastOfRow = end == lengths[p.work()[4 * i]];
            assertTrue(lastOfRow || (end - p.work()[4 * i + 2]) % KernelLimits.MLA_TC_TILE == 0, p.toString());
        }
        assertThrows(IllegalArgumentException.class,
                () -> MlaDecodePlan.of(identity(1), new int[]{5}, 16, H200_SMS, 16, 0));
    }

    @Test
    void veryLongContextsRespectTheSplitCap() {
        int[] lengths = {1 << 20};
        MlaDecodePlan p = MlaDecodePlan.of(new int[]{0}, lengths, 16, 100_000, 16);
        assertCovers(p, new int[]{0}, lengths);
        assertTrue(p.numWork() <= KernelLimits.MLA_MAX_SPLITS);
    }

    @Test
    void launchIsPaddedToAPowerOfTwoWithItemsThatDoNothing() {
        int[] lengths = {4096, 300, 5};
        MlaDecodePlan p = MlaDecodePlan.of(identity(3), lengths, 16, H200_SMS);
        int items = p.launchItems();
        assertEquals(Integer.bitCount(items), 1, "power of two: " + items);
        assertTrue(items >= p.numWork() && items < 2 * p.numWork(), items + " for " + p.numWork());
        int[] launch = p.launchWork();
        assertEquals(4 * items, launch.length);
        assertEquals(Arrays.toString(p.work()), Arrays.toString(Arrays.copyOf(launch, p.work().length)));
        for (int i = p.numWork(); i < items; i++) {
            assertEquals(-1, launch[4 * i], "padding item " + i + " has no row");
        }
        assertEquals(1, MlaDecodePlan.of(identity(1), new int[]{7}, 16, H200_SMS).launchItems());
    }

    @Test
    void growingContextsKeepTheLaunchShapeMostSteps() {
        // One sequence decoding from 1000 to 2000 keys: the chunks change many times, the padded launch rarely.
        int changes = 0;
        int last = -1;
        for (int len = 1000; len <= 2000; len++) {
            int items = MlaDecodePlan.of(new int[]{0}, new int[]{len}, 16, H200_SMS).launchItems();
            changes += items != last && last >= 0 ? 1 : 0;
            last = items;
        }
        assertTrue(changes <= 2, changes + " launch shapes over 1000 steps");
    }

    @Test
    void badInputsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> MlaDecodePlan.of(new int[]{0}, new int[]{0}, 16, 132));
        assertThrows(IllegalArgumentException.class, () -> MlaDecodePlan.of(new int[]{0}, new int[]{5, 6}, 16, 132));
        assertThrows(IllegalArgumentException.class, () -> MlaDecodePlan.of(new int[]{0}, new int[]{5}, 16, 0));
    }
}

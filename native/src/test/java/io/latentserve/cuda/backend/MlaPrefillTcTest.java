package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import io.latentserve.cuda.kernels.MlaPrefillTcParams;
import io.latentserve.model.backend.AttentionBatch;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which shapes ls_mla_prefill_tc takes, its work items and launch, on the host (no GPU). */
class MlaPrefillTcTest {
    static final int HOPPER_OPTIN = 227 * 1024;
    static final int AMPERE_OPTIN = 163 * 1024;
    static final int ADA_OPTIN = 99 * 1024;

    @Test
    void takesDeepSeekShapes() {
        assertTrue(MlaPrefillTc.supports(16, 128, 64, 128, 3, HOPPER_OPTIN), "V2-Lite: 16 heads, 128 + 64, 128");
        assertTrue(MlaPrefillTc.supports(128, 128, 64, 128, 3, HOPPER_OPTIN), "V2 / V3: 128 heads");
        assertTrue(MlaPrefillTc.supports(16, 128, 64, 128, 3, AMPERE_OPTIN), "A100: 163 KiB");
        assertFalse(MlaPrefillTc.supports(16, 128, 64, 128, 3, ADA_OPTIN), "109 KB do not fit sm_89's 99 KiB");
        assertTrue(MlaPrefillTc.supports(16, 128, 64, 128, 1, ADA_OPTIN), "hi only: 42 KB do");
    }

    @Test
    void leavesOtherShapesToTheFallbacks() {
        assertFalse(MlaPrefillTc.supports(4, 16, 8, 16, 3, HOPPER_OPTIN), "golden models: rope 8 is no k-step");
        assertFalse(MlaPrefillTc.supports(4, 24, 16, 16, 3, HOPPER_OPTIN), "dn not a multiple of 16");
        assertFalse(MlaPrefillTc.supports(4, 16, 16, 40, 3, HOPPER_OPTIN), "dv not a multiple of 16");
        assertFalse(MlaPrefillTc.supports(16, 192, 16, 128, 3, HOPPER_OPTIN), "dn + dr above 192");
        assertFalse(MlaPrefillTc.supports(16, 128, 64, 144, 3, HOPPER_OPTIN), "dv above 128");
        assertFalse(MlaPrefillTc.supports(0, 128, 64, 128, 3, HOPPER_OPTIN), "no heads");
        assertFalse(MlaPrefillTc.supports(16, 128, 64, 128, 2, HOPPER_OPTIN), "1 or 3 terms");
        assertTrue(MlaPrefillTc.supports(2, 16, 16, 16, 3, HOPPER_OPTIN), "small dims");
        assertTrue(MlaPrefillTc.supports(2, 32, 0, 16, 1, HOPPER_OPTIN), "no rope part");
        assertTrue(MlaPrefillTc.unsupported(4, 16, 8, 16, 3, HOPPER_OPTIN).orElseThrow().contains("multiples of 16"));
    }

    @Test
    void sharedMemoryIsTheHeaderFormula() {
        // 2 stages x hi/lo x 32 keys x (192 + 8 + 128 + 8) bf16, + 64 Q rows of 200 bf16 (lo halves)
        assertEquals(2 * 2 * 2 * 32 * 336 + 2 * 64 * 200, MlaPrefillTc.sharedBytes(192, 128, 3));
        assertEquals(111_616, KernelLimits.mlaPrefillTcSharedBytes(192, 128, 3));
        assertEquals(43_008, KernelLimits.mlaPrefillTcSharedBytes(192, 128, 1), "hi only: no lo tiles, no Q lo");
    }

    /** Three sequences: a fresh 130-token prompt, a chunk of 37 after 100 cached tokens, one decode-like token. */
    static AttentionBatch batch() {
        int[] starts = {0, 130, 167, 168};
        int[] positions = new int[168];
        for (int t = 0; t < 130; t++) {
            positions[t] = t;
        }
        for (int t = 0; t < 37; t++) {
            positions[130 + t] = 100 + t;
        }
        positions[167] = 5;
        return new AttentionBatch(starts, positions, new int[3][0], new int[168], 16);
    }

    @Test
    void workItemsCoverEveryTokenOnceLongestFirst() {
        int[] work = MlaPrefillTc.work(batch(), List.of(0, 1, 2), new int[]{0, 130, 267});
        assertArrayEquals(new int[]{
                130, 37, 130, 137,   // 100 cached + 37: keys 0..136
                128, 2, 0, 130,      // the 130-token prompt's last 2
                64, 64, 0, 128,
                0, 64, 0, 64,
                167, 1, 267, 6}, work);
        int[] some = MlaPrefillTc.work(batch(), List.of(2), new int[]{0});
        assertArrayEquals(new int[]{167, 1, 0, 6}, some, "key base: the sequence's first row in the gathered context");
    }

    @Test
    void rejectsPositionsOutsideTheContext() {
        AttentionBatch bad = new AttentionBatch(new int[]{0, 2}, new int[]{5, 3}, new int[1][0], new int[2], 16);
        assertThrows(IllegalArgumentException.class, () -> MlaPrefillTc.work(bad, List.of(0), new int[]{0}),
                "position 5 past a context of 4 keys");
    }

    @Test
    void gridIsHeadsByWorkItems() {
        Grid g = MlaPrefillTc.grid(16, 64, 192, 128, 3);
        assertEquals(16, g.gx());
        assertEquals(64, g.gy());
        assertEquals(128, g.threads());
        assertEquals(111_616, g.sharedBytes());
        assertTrue(MlaPrefillTc.fits(Grid.MAX_GRID_YZ));
        assertFalse(MlaPrefillTc.fits(Grid.MAX_GRID_YZ + 1));
    }

    @Test
    void paramsNeedTheLoHalvesForThreeTerms() {
        assertThrows(IllegalArgumentException.class, () -> new MlaPrefillTcParams(1, 2, 0, 4, 5, 6, 7, 8, 1, 1, 16,
                16, 16, 32, 32, 32, 32, 16, 16, 16, 3, 0.1f));
        assertThrows(IllegalArgumentException.class, () -> new MlaPrefillTcParams(1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 16,
                16, 16, 32, 32, 32, 32, 16, 16, 16, 2, 0.1f));
        new MlaPrefillTcParams(1, 2, 0, 4, 0, 6, 7, 8, 1, 1, 16, 16, 16, 32, 32, 32, 32, 16, 16, 16, 1, 0.1f);
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.kernels.Grid;
import io.latentserve.cuda.kernels.KernelLimits;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which shapes ls_mla_decode_tc takes and how it is launched, on the host (no GPU). */
class MlaDecodeTcTest {
    static final int HOPPER_OPTIN = 227 * 1024;
    static final int ADA_OPTIN = 99 * 1024;

    @Test
    void takesDeepSeekShapesOnHopper() {
        assertTrue(MlaDecodeTc.supports(16, 512, 64, HOPPER_OPTIN), "V2-Lite: 16 heads, 512 + 64");
        assertTrue(MlaDecodeTc.supports(128, 512, 64, HOPPER_OPTIN), "V2: 128 heads");
        assertTrue(MlaDecodeTc.supports(3, 48, 16, HOPPER_OPTIN), "a padded head group and small dims");
        assertTrue(MlaDecodeTc.supports(1, 512, 0, HOPPER_OPTIN), "no rope part");
    }

    @Test
    void leavesOtherShapesToTheFallback() {
        assertFalse(MlaDecodeTc.supports(4, 32, 8, HOPPER_OPTIN), "golden test models: 32 + 8 is no k-step multiple");
        assertFalse(MlaDecodeTc.supports(16, 40, 16, HOPPER_OPTIN), "r not a multiple of 16");
        assertFalse(MlaDecodeTc.supports(16, 512, 72, HOPPER_OPTIN), "r + dr above 576");
        assertFalse(MlaDecodeTc.supports(16, 528, 48, HOPPER_OPTIN), "r above 512");
        assertFalse(MlaDecodeTc.supports(0, 512, 64, HOPPER_OPTIN), "no heads");
        assertFalse(MlaDecodeTc.supports(16, 0, 64, HOPPER_OPTIN), "no latent");
        assertFalse(MlaDecodeTc.supports(16, 512, 64, ADA_OPTIN), "160 KB of tiles do not fit sm_89's 99 KiB");
        assertTrue(MlaDecodeTc.supports(16, 256, 64, ADA_OPTIN), "smaller rows do");
        assertTrue(MlaDecodeTc.unsupported(4, 32, 8, HOPPER_OPTIN).orElseThrow().contains("multiples of 16"));
    }

    @Test
    void sharedMemoryIsTheHeaderFormula() {
        // 4*4*16*40 partial scores + 16*2*32*2 P fragments + 12*16 factors and (m, l) + 2*4*32*(576 + 8) tiles
        // + 4 stage mbarriers of 8 bytes
        assertEquals(10_240 + 2_048 + 192 + 149_504 + 32, MlaDecodeTc.sharedBytes(512, 64));
        assertEquals(162_016, KernelLimits.mlaDecodeTcSharedBytes(512, 64));
        assertEquals(12_480 + 2 * 4 * 32 * 72 + 32, MlaDecodeTc.sharedBytes(48, 16));
        assertTrue(MlaDecodeTc.sharedBytes(512, 64) % 16 == 0, "16-byte aligned tail");
    }

    @Test
    void gridIsOneBlockPerWorkItemAndHeadGroup() {
        int[] lengths = {4096, 4096, 70};
        MlaDecodePlan plan = MlaDecodePlan.of(new int[]{0, 1, 2}, lengths, 128, 132);
        Grid g = MlaDecodeTc.grid(plan, 128, 512, 64);
        assertEquals(plan.launchItems(), g.gx());
        assertEquals(8, g.gy());
        assertEquals(1, g.gz());
        assertEquals(256, g.threads());
        assertEquals(162_016, g.sharedBytes());
        assertEquals(1, MlaDecodeTc.headGroups(16));
        assertEquals(1, MlaDecodeTc.headGroups(3));
        assertEquals(2, MlaDecodeTc.headGroups(17));
    }

    @Test
    void gridRefusesAPlanMadeForOtherHeads() {
        MlaDecodePlan plan = MlaDecodePlan.of(new int[]{0}, new int[]{100}, 16, 132);
        assertThrows(IllegalArgumentException.class, () -> MlaDecodeTc.grid(plan, 32, 512, 64));
    }
}

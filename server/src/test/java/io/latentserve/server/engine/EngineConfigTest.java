package io.latentserve.server.engine;

import io.latentserve.model.backend.KvCacheDtype;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineConfigTest {

    @Test
    void switchingDeviceSamplingKeepsEverythingElse() {
        EngineConfig bf16 = new EngineConfig(4, 256, 16, 64, 4096, 10, true, KvCacheDtype.BF16);
        EngineConfig off = bf16.withDeviceSampling(false);
        assertFalse(off.deviceSampling());
        assertEquals(KvCacheDtype.BF16, off.kvCacheDtype());
        assertEquals(new EngineConfig(4, 256, 16, 64, 4096, 10, false, KvCacheDtype.BF16), off);
        assertTrue(off.withDeviceSampling(true).deviceSampling());
    }

    @Test
    void defaultsAreAnF32CacheAndDeviceSamplingWhereTheBackendCan() {
        EngineConfig plain = new EngineConfig(4, 256, 16, 64, 4096, 10);
        assertEquals(KvCacheDtype.F32, plain.kvCacheDtype());
        assertEquals(EngineConfig.DEFAULT_DEVICE_SAMPLING, plain.deviceSampling());
        assertThrows(NullPointerException.class, () -> new EngineConfig(4, 256, 16, 64, 4096, 10, true, null));
    }

    @Test
    void asyncSchedulingIsOffUnlessAskedAndSwitchingItKeepsEverythingElse() {
        EngineConfig bf16 = new EngineConfig(4, 256, 16, 64, 4096, 10, true, KvCacheDtype.BF16);
        assertFalse(bf16.asyncScheduling());
        EngineConfig async = bf16.withAsyncScheduling(true);
        assertEquals(new EngineConfig(4, 256, 16, 64, 4096, 10, true, KvCacheDtype.BF16, true), async);
        assertTrue(async.withDeviceSampling(false).asyncScheduling(), "switching device sampling keeps it");
        assertEquals(bf16, async.withAsyncScheduling(false));
    }
}

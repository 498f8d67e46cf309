package io.latentserve.model.perf;

import io.latentserve.model.RandomModels;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.graph.DeepseekV2Model;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.model.graph.Weights;
import io.latentserve.model.random.HashedTensorStore;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProfilingBackendTest {

    @Test
    void timesEveryOperationOnlyWhileRecordingAndChangesNoResult() {
        ModelConfig c = RandomModels.deepseekConfig(false, false);
        AtomicInteger syncs = new AtomicInteger();
        int[][] prompt = {{5, 9, 13, 2, 7}};
        int[][] table = {{0, 1}};
        try (CpuBackend plain = new CpuBackend();
             DeepseekV2Model reference = new DeepseekV2Model(c, new Weights(new HashedTensorStore(c, 1), plain));
             KvCache refCache = reference.newKvCache(2, 16)) {
            ProfilingBackend profiled = new ProfilingBackend(new CpuBackend(), syncs::incrementAndGet);
            try (DeepseekV2Model model = new DeepseekV2Model(c, new Weights(new HashedTensorStore(c, 1), profiled));
                 KvCache cache = model.newKvCache(2, 16)) {
                float[][] want = reference.forward(ForwardBatch.of(prompt, new int[]{0}, table, 16), refCache);
                assertArrayEquals(want[0], model.forward(ForwardBatch.of(prompt, new int[]{0}, table, 16), cache)[0]);
                assertEquals(0, syncs.get(), "not recording: no synchronisation, nothing timed");
                assertTrue(profiled.millis().isEmpty());

                profiled.recording(true);
                float[][] got = model.forward(ForwardBatch.of(new int[][]{{3}}, new int[]{5}, table, 16), cache);
                profiled.recording(false);
                float[][] wantStep = reference.forward(ForwardBatch.of(new int[][]{{3}}, new int[]{5}, table, 16),
                        refCache);
                assertArrayEquals(wantStep[0], got[0]);
                Map<String, Double> ms = profiled.millis();
                assertTrue(ms.keySet().stream().anyMatch(k -> k.startsWith("matmul [")), ms.toString());
                assertTrue(ms.containsKey("moe (shared + routed experts)") && ms.containsKey("embedding"), ms.toString());
                assertTrue(ms.keySet().stream().anyMatch(k -> k.startsWith("mlaAttention")), ms.toString());
                assertTrue(syncs.get() >= 2 * ms.size(), "a synchronisation before and after each timed operation");
                assertTrue(profiled.report().getFirst().startsWith("| "), profiled.report().toString());
            }
        }
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.cuda.CudaContext;
import io.latentserve.model.RandomModels;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.graph.DeepseekV2Model;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.model.graph.Golden;
import io.latentserve.model.graph.Weights;
import io.latentserve.model.random.HashedTensorStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Forward passes recorded and replayed as CUDA graphs give exactly the logits of the same passes launched
 * one by one (and the CPU's, within the model tolerance): a prefill (cuBLAS, so never a graph), then decode
 * steps of two sequences whose launches repeat with new tokens and positions: the second is captured, the
 * rest replay it.
 */
@Tag("gpu")
class CudaStepGraphsGpuTest {
    private static final int BLOCK = 16;

    @Test
    void replayedDecodeStepsMatchPlainOnes() {
        ModelConfig config = RandomModels.deepseekConfig(false, false);
        int steps = 6;
        float[][][] graphed;
        float[][][] plain;
        long[] counts;
        try (CudaBackend withGraphs = open(true)) {
            graphed = run(config, withGraphs, steps);
            counts = withGraphs.graphCounts();
        }
        try (CudaBackend without = open(false)) {
            plain = run(config, without, steps);
            assertEquals(0, without.graphCounts()[0] + without.graphCounts()[1]);
        }
        float[][][] cpu;
        try (CpuBackend backend = new CpuBackend()) {
            cpu = run(config, backend, steps);
        }
        for (int step = 0; step <= steps; step++) {
            for (int s = 0; s < 2; s++) {
                assertArrayEquals(plain[step][s], graphed[step][s], "step " + step + " sequence " + s);
            }
            double err = Math.max(GpuReport.maxRelErr(graphed[step][0], cpu[step][0]),
                    GpuReport.maxRelErr(graphed[step][1], cpu[step][1]));
            GpuReport.check("step graphs (replayed forward)", "tiny V2, step " + step + (step == 0 ? " prefill" : ""),
                    err, 1e-3);
        }
        assertEquals(1, counts[1], "one capture: the decode steps all share one signature");
        assertTrue(counts[0] >= steps - 2, "replays " + counts[0]);
    }

    /**
     * A sequence decoding across cache blocks (block size 4, positions 14 to 21): the block tables' padded
     * width changes once (4 to 8 entries), so after the first capture of each shape every step replays.
     */
    @Test
    void decodeAcrossBlocksKeepsReplaying() {
        ModelConfig config = RandomModels.deepseekConfig(false, false);
        int steps = 8;
        long[] counts;
        float[][] graphed;
        try (CudaBackend withGraphs = open(true)) {
            graphed = decodeAcrossBlocks(config, withGraphs, steps);
            counts = withGraphs.graphCounts();
        }
        float[][] plain;
        try (CudaBackend without = open(false)) {
            plain = decodeAcrossBlocks(config, without, steps);
        }
        for (int step = 0; step <= steps; step++) {
            assertArrayEquals(plain[step], graphed[step], "step " + step);
        }
        assertEquals(2, counts[1], "one capture per table width (4, then 8 blocks)");
        assertEquals(steps - 4, counts[0], "replays: every step after each width's first two");
    }

    private static float[][] decodeAcrossBlocks(ModelConfig config, Backend backend, int steps) {
        int block = 4;
        float[][] out = new float[steps + 1][];
        int[][] tables = {{5, 0, 7, 2, 1, 6, 3, 4}};
        try (DeepseekV2Model model = new DeepseekV2Model(config, new Weights(new HashedTensorStore(config, 9), backend));
             KvCache cache = model.newKvCache(8, block)) {
            int[][] tokens = {{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7}};
            int position = 0;
            for (int step = 0; step <= steps; step++) {
                out[step] = model.forward(ForwardBatch.of(tokens, new int[]{position}, tables, block), cache)[0];
                position += tokens[0].length;
                tokens = new int[][]{{Golden.argmax(out[step])}};
            }
        }
        return out;
    }

    private static CudaBackend open(boolean graphs) {
        return CudaBackend.create(CudaContext.open(0, 1L << 28, 1L << 26, 1L << 28), graphs);
    }

    /** Logits of a 2-sequence prefill (5 and 9 tokens), then of steps decode steps, greedy. */
    private static float[][][] run(ModelConfig config, Backend backend, int steps) {
        float[][][] out = new float[steps + 1][][];
        int[][] tables = {{0, 1}, {2, 3}};
        try (DeepseekV2Model model = new DeepseekV2Model(config, new Weights(new HashedTensorStore(config, 9), backend));
             KvCache cache = model.newKvCache(4, BLOCK)) {
            int[][] tokens = {{3, 1, 4, 1, 5}, {9, 2, 6, 5, 3, 5, 8, 9, 7}};
            int[] positions = {0, 0};
            for (int step = 0; step <= steps; step++) {
                out[step] = model.forward(ForwardBatch.of(tokens, positions, tables, BLOCK), cache);
                positions = new int[]{positions[0] + tokens[0].length, positions[1] + tokens[1].length};
                tokens = new int[][]{{Golden.argmax(out[step][0])}, {Golden.argmax(out[step][1])}};
            }
        }
        return out;
    }
}

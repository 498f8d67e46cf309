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
     * Decode of 10 sequences, more than ls_gemv takes ({@link io.latentserve.cuda.kernels.KernelLimits#GEMV_MAX_ROWS}):
     * the dense products go through cuBLAS, which is recorded into the step's graph too, so the steps replay
     * one graph and give the logits of the same steps launched one by one.
     */
    @Test
    void decodeThroughCublasIsCapturedToo() {
        ModelConfig config = RandomModels.deepseekConfig(false, false);
        int steps = 5;
        int seqs = 10;
        float[][][] graphed;
        long[] counts;
        try (CudaBackend withGraphs = open(true)) {
            graphed = run(config, withGraphs, steps, seqs);
            counts = withGraphs.graphCounts();
        }
        float[][][] plain;
        try (CudaBackend without = open(false)) {
            plain = run(config, without, steps, seqs);
        }
        for (int step = 0; step <= steps; step++) {
            for (int s = 0; s < seqs; s++) {
                double err = GpuReport.maxRelErr(graphed[step][s], plain[step][s]);
                assertTrue(err <= 1e-6, "step " + step + " sequence " + s + ": " + err);
            }
        }
        assertEquals(1, counts[1], "one capture: the decode steps (cuBLAS included) share one signature");
        assertEquals(steps - 2, counts[0], "replays: every decode step after the first two");
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
        return run(config, backend, steps, new int[][]{{3, 1, 4, 1, 5}, {9, 2, 6, 5, 3, 5, 8, 9, 7}});
    }

    /**
     * As {@link #run(ModelConfig, Backend, int)} for seqs sequences, sequence i prefilling 3 + i % 4 tokens (the
     * positions stay below 16, where the RoPE table would grow and end a recording).
     */
    private static float[][][] run(ModelConfig config, Backend backend, int steps, int seqs) {
        int[][] prompts = new int[seqs][];
        for (int i = 0; i < seqs; i++) {
            prompts[i] = new int[3 + i % 4];
            for (int j = 0; j < prompts[i].length; j++) {
                prompts[i][j] = (7 * i + 3 * j + 1) % config.vocabSize();
            }
        }
        return run(config, backend, steps, prompts);
    }

    private static float[][][] run(ModelConfig config, Backend backend, int steps, int[][] prompts) {
        int n = prompts.length;
        float[][][] out = new float[steps + 1][][];
        int[][] tables = new int[n][];
        for (int i = 0; i < n; i++) {
            tables[i] = new int[]{2 * i, 2 * i + 1};
        }
        try (DeepseekV2Model model = new DeepseekV2Model(config, new Weights(new HashedTensorStore(config, 9), backend));
             KvCache cache = model.newKvCache(2 * n, BLOCK)) {
            int[][] tokens = prompts;
            int[] positions = new int[n];
            for (int step = 0; step <= steps; step++) {
                out[step] = model.forward(ForwardBatch.of(tokens, positions, tables, BLOCK), cache);
                int[][] next = new int[n][];
                for (int i = 0; i < n; i++) {
                    positions[i] += tokens[i].length;
                    next[i] = new int[]{Golden.argmax(out[step][i])};
                }
                tokens = next;
            }
        }
        return out;
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.model.RandomModels;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.graph.DeepseekV2Model;
import io.latentserve.model.graph.Weights;
import io.latentserve.model.random.HashFill;
import io.latentserve.model.random.HashedTensorStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * ls_fill_hashed makes in place, bit for bit, the weights {@link HashFill} makes on the host (which the
 * HuggingFace peer of the benchmark makes in PyTorch), and a model built from them on the GPU agrees
 * with the same model built on the CPU.
 */
@Tag("gpu")
class CudaHashedWeightsGpuTest {
    static GpuBackends b;

    @BeforeAll
    static void open() {
        b = GpuBackends.open(4, 1, 2);
    }

    @AfterAll
    static void close() {
        if (b != null) {
            b.close();
        }
    }

    @Test
    void deviceFillIsBitIdenticalToTheHostFill() {
        long[][] shapes = {{1}, {7}, {33, 257}, {1408, 2048}, {3, 100_003}};
        long[] chunks = {1L << 30, 1000};   // the second forces many launches, each from its own index base
        for (long[] shape : shapes) {
            for (long chunk : chunks) {
                HashFill fill = HashFill.forTensor("t" + shape.length + "x" + shape[0], shape, 11);
                CudaWeight w = b.cuda.weights.hashed("t", shape, fill, b.cuda.kernels, chunk);
                long count = (long) w.rows() * w.cols();
                int mismatches = 0;
                try (Arena host = Arena.ofConfined()) {
                    MemorySegment seg = host.allocate(2 * count);
                    b.cuda.ctx.synchronize();
                    b.cuda.ctx.driver().memcpyDtoH(seg, w.address(), 2 * count);
                    for (long i = 0; i < count; i++) {
                        if (seg.getAtIndex(GpuBackends.SHORT_LE, i) != fill.bf16(i)) {
                            mismatches++;
                        }
                    }
                }
                GpuReport.checkExact("ls_fill_hashed", java.util.Arrays.toString(shape) + " chunk " + chunk,
                        mismatches, (int) count);
            }
        }
    }

    @Test
    void modelFromDeviceFilledWeightsAgreesWithTheCpu() {
        ModelConfig config = RandomModels.deepseekConfig(false, false);
        try (HashedTensorStore store = new HashedTensorStore(config, 5)) {
            CausalLM[] models = {new DeepseekV2Model(config, new Weights(store, b.cuda)),
                    new DeepseekV2Model(config, new Weights(store, b.cpu))};
            CudaRandomModelGpuTest.compare("tiny V2, hashed weights", models, config.vocabSize(), 1e-3, 4);
        }
    }
}

package io.latentserve.cuda.backend;

import io.latentserve.model.perf.KnownShapes;
import io.latentserve.model.RandomModels;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.KvCacheDtype;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.graph.CausalLM;
import io.latentserve.model.graph.DeepseekV2Model;
import io.latentserve.model.graph.ForwardBatch;
import io.latentserve.model.graph.Golden;
import io.latentserve.model.graph.LlamaModel;
import io.latentserve.model.graph.Weights;
import io.latentserve.model.random.RandomTensorStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

/**
 * Random models run on both backends from the same weights and compared step by step: a DeepSeek-V2-Lite
 * shaped model (real layer shapes, 3 layers: one dense, two MoE), small DeepSeek-V2 models with q-LoRA and
 * group-limited routing in each MLA form, and a DeepSeek LLM (Llama) model with GQA. Each runs a batch of
 * two prefills of different lengths, then decode steps of both sequences together. The bf16 KV cache is
 * compared the same way, CUDA bf16 against CPU bf16 (the same rounded cache values on both sides).
 */
@Tag("gpu")
class CudaRandomModelGpuTest {
    static final int BLOCK = 16;
    static GpuBackends b;

    @BeforeAll
    static void open() {
        b = GpuBackends.open(12, 2, 6);
    }

    @AfterAll
    static void close() {
        if (b != null) {
            b.close();
        }
    }

    /**
     * Runs the same steps on [CUDA model, CPU model] and checks logits (relative to their scale) and argmax: a
     * prefill of 17 and 40 tokens, 3 decode steps, then a follow-up chunk of 5 tokens per sequence (after a longer
     * cached context: absorbed in AUTO, MlaMode.absorbs).
     */
    static void compare(String name, CausalLM[] models, int vocab, double tolerance, long seed) {
        compare(name, models, vocab, tolerance, seed, KvCacheDtype.F32);
    }

    static void compare(String name, CausalLM[] models, int vocab, double tolerance, long seed, KvCacheDtype dtype) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[][] prompts = {rnd.ints(17, 0, vocab).toArray(), rnd.ints(40, 0, vocab).toArray()};
        int decodeSteps = 3;
        int[][] followUp = {rnd.ints(5, 0, vocab).toArray(), rnd.ints(5, 0, vocab).toArray()};
        int[][] tables = {{7, 2, 5, 0}, {1, 6, 3, 4}};
        KvCache[] caches = {models[0].newKvCache(8, BLOCK, dtype), models[1].newKvCache(8, BLOCK, dtype)};
        try (KvCache g = caches[0]; KvCache c = caches[1]) {
            int[] next = new int[2];
            int[] positions = {0, 0};
            int[][] tokens = prompts;
            for (int step = 0; step <= decodeSteps + 1; step++) {
                float[][][] logits = new float[2][][];
                for (int i = 0; i < 2; i++) {
                    logits[i] = models[i].forward(ForwardBatch.of(tokens, positions, tables, BLOCK), caches[i]);
                }
                double err = 0;
                int argmaxDiffer = 0;
                for (int s = 0; s < 2; s++) {
                    err = Math.max(err, GpuReport.maxRelErr(logits[0][s], logits[1][s]));
                    int want = Golden.argmax(logits[1][s]);
                    if (Golden.argmax(logits[0][s]) != want && margin(logits[1][s]) > 1e-3) {
                        argmaxDiffer++;
                    }
                    next[s] = want;
                }
                String shape = name + (dtype == KvCacheDtype.BF16 ? ", bf16 cache" : "")
                        + (step == 0 ? " prefill 17 + 40" : step > decodeSteps ? " follow-up chunk 5 + 5"
                        : " decode step " + step);
                GpuReport.check("model logits vs CPU", shape, err, tolerance);
                GpuReport.checkExact("model argmax vs CPU", shape, argmaxDiffer, 2);
                positions = new int[]{positions[0] + tokens[0].length, positions[1] + tokens[1].length};
                tokens = step + 1 > decodeSteps ? followUp : new int[][]{{next[0]}, {next[1]}};
            }
        }
    }

    static double margin(float[] logits) {
        int best = Golden.argmax(logits);
        float second = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            if (i != best) {
                second = Math.max(second, logits[i]);
            }
        }
        return logits[best] - second;
    }

    @Test
    void v2LiteShapedModelAgreesWithTheCpu() {
        ModelConfig config = KnownShapes.deepseekV2Lite(3);
        RandomTensorStore store = new RandomTensorStore(config, 2024);
        try {
            CausalLM[] models = {new DeepseekV2Model(config, new Weights(store, b.cuda)),
                    new DeepseekV2Model(config, new Weights(store, b.cpu))};
            compare("V2-Lite shapes, 3 layers", models, config.vocabSize(), 1e-3, 1);
            System.out.println("CUDA memory: " + b.cuda.memoryReport());
        } finally {
            store.close();
        }
    }

    @Test
    void smallDeepseekModelsAgreeInEveryMlaForm() {
        for (boolean qLora : new boolean[]{false, true}) {
            ModelConfig config = RandomModels.deepseekConfig(qLora, qLora);
            RandomTensorStore store = new RandomTensorStore(config, 31);
            try {
                for (MlaMode mode : MlaMode.values()) {
                    DeepseekV2Model[] models = {new DeepseekV2Model(config, new Weights(store, b.cuda)),
                            new DeepseekV2Model(config, new Weights(store, b.cpu))};
                    models[0].setMlaMode(mode);
                    models[1].setMlaMode(mode);
                    compare("tiny V2" + (qLora ? " q-LoRA, group-limited" : "") + " " + mode, models,
                            config.vocabSize(), 1e-3, 2);
                }
            } finally {
                store.close();
            }
        }
    }

    /** A bf16 KV cache on both backends: prefill (decompressed gather), decode (ls_mla_decode), and GQA. */
    @Test
    void modelsWithABf16CacheAgree() {
        ModelConfig v2 = RandomModels.deepseekConfig(true, true);
        try (RandomTensorStore store = new RandomTensorStore(v2, 31)) {
            CausalLM[] models = {new DeepseekV2Model(v2, new Weights(store, b.cuda)),
                    new DeepseekV2Model(v2, new Weights(store, b.cpu))};
            compare("tiny V2 q-LoRA, group-limited AUTO", models, v2.vocabSize(), 1e-3, 2, KvCacheDtype.BF16);
        }
        ModelConfig llama = RandomModels.llamaConfig(8, 2);
        try (RandomTensorStore store = new RandomTensorStore(llama, 8)) {
            CausalLM[] models = {new LlamaModel(llama, new Weights(store, b.cuda)),
                    new LlamaModel(llama, new Weights(store, b.cpu))};
            compare("DeepSeek LLM (Llama) GQA 8/2", models, llama.vocabSize(), 1e-3, 3, KvCacheDtype.BF16);
        }
    }

    @Test
    void llamaGqaModelAgrees() {
        ModelConfig config = RandomModels.llamaConfig(8, 2);
        RandomTensorStore store = new RandomTensorStore(config, 8);
        try {
            CausalLM[] models = {new LlamaModel(config, new Weights(store, b.cuda)),
                    new LlamaModel(config, new Weights(store, b.cpu))};
            compare("DeepSeek LLM (Llama) GQA 8/2", models, config.vocabSize(), 1e-3, 3);
        } finally {
            store.close();
        }
    }
}

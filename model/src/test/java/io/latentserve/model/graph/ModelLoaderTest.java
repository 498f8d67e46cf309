package io.latentserve.model.graph;

import io.latentserve.model.RandomModels;
import io.latentserve.model.checkpoint.CheckpointException;
import io.latentserve.model.checkpoint.DType;
import io.latentserve.model.checkpoint.SafetensorsWriter;
import io.latentserve.model.config.ConfigException;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.random.CheckpointShapes;
import io.latentserve.model.random.RandomDemoModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading through the normal path: a checkpoint that does not match its config fails naming the tensor. */
class ModelLoaderTest {

    @Test
    void aTensorWithTheWrongShapeIsNamed(@TempDir Path dir) throws IOException {
        writeCheckpoint(dir, "model.layers.1.self_attn.kv_b_proj.weight", new long[]{128, 31}, null);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(dir, new CpuBackend(1)));
        assertTrue(e.getMessage().contains("model.layers.1.self_attn.kv_b_proj.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("[128, 32]"), e.getMessage());
    }

    @Test
    void aMissingTensorIsNamed(@TempDir Path dir) throws IOException {
        writeCheckpoint(dir, null, null, "model.layers.2.mlp.experts.5.down_proj.weight");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(dir, new CpuBackend(1)));
        assertTrue(e.getMessage().contains("model.layers.2.mlp.experts.5.down_proj.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void anIntegerWeightIsRefused(@TempDir Path dir) throws IOException {
        writeCheckpoint(dir, "model.norm.weight", null, null);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(dir, new CpuBackend(1)));
        assertTrue(e.getMessage().contains("model.norm.weight") && e.getMessage().contains("I32"), e.getMessage());
    }

    @Test
    void anUnknownArchitectureIsNamed(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"MixtralForCausalLM\"]}");
        ConfigException e = assertThrows(ConfigException.class, () -> ModelLoader.load(dir, new CpuBackend(1)));
        assertTrue(e.getMessage().contains("MixtralForCausalLM"), e.getMessage());
    }

    @Test
    void theRandomDemoModelIsCreatedOnceAndLoadsThroughTheNormalPath(@TempDir Path cache) throws IOException {
        Path dir = RandomDemoModel.ensure(cache);
        long written = Files.getLastModifiedTime(dir.resolve("model.safetensors")).toMillis();
        assertEquals(dir, RandomDemoModel.ensure(cache), "second call reuses the cached folder");
        assertEquals(written, Files.getLastModifiedTime(dir.resolve("model.safetensors")).toMillis());
        try (CausalLM model = ModelLoader.load(dir, new CpuBackend(1))) {
            assertTrue(model.config().isDeepseekV2());
            float[] logits = BatchInvarianceTest.run(model, new int[]{256, 72, 105})[2];
            assertEquals(512, logits.length);
            for (float v : logits) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    /** The small random DeepSeek-V2 checkpoint, with one tensor reshaped, retyped (I32) or left out. */
    private static void writeCheckpoint(Path dir, String changed, long[] newShape, String omitted) throws IOException {
        ModelConfig c = RandomModels.deepseekConfig(false, false);
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["DeepseekV2ForCausalLM"], "vocab_size": 300, "hidden_size": 64,
                 "intermediate_size": 96, "moe_intermediate_size": 32, "num_hidden_layers": 3,
                 "num_attention_heads": 4, "n_routed_experts": 8, "n_shared_experts": 1, "num_experts_per_tok": 3,
                 "topk_method": "greedy", "first_k_dense_replace": 1, "q_lora_rank": null, "kv_lora_rank": 32,
                 "qk_nope_head_dim": 16, "qk_rope_head_dim": 8, "v_head_dim": 16, "rope_theta": 10000,
                 "max_position_embeddings": 8192, "rms_norm_eps": 1e-6}
                """);
        SafetensorsWriter w = new SafetensorsWriter();
        for (Map.Entry<String, long[]> e : CheckpointShapes.of(c).entrySet()) {
            if (e.getKey().equals(omitted)) {
                continue;
            }
            long[] shape = e.getKey().equals(changed) && newShape != null ? newShape : e.getValue();
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            DType type = e.getKey().equals(changed) && newShape == null ? DType.I32 : DType.BF16;
            w.add(e.getKey(), type, shape, new byte[(int) n * type.byteSize()]);
        }
        w.write(dir.resolve("model.safetensors"));
    }
}

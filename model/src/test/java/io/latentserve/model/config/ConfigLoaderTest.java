package io.latentserve.model.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latentserve.model.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

    private static final Path FILE = Path.of("/models/test/config.json");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** DeepSeek-V2 (236B) as published: q_lora_rank set, grouped routing (MODEL_SPEC 1). */
    private static final String DEEPSEEK_V2 = """
            {"architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2",
             "vocab_size": 102400, "hidden_size": 5120, "intermediate_size": 12288, "moe_intermediate_size": 1536,
             "num_hidden_layers": 60, "num_attention_heads": 128, "num_key_value_heads": 128,
             "n_routed_experts": 160, "n_shared_experts": 2, "num_experts_per_tok": 6,
             "n_group": 8, "topk_group": 3, "topk_method": "group_limited_greedy",
             "routed_scaling_factor": 16.0, "norm_topk_prob": false, "scoring_func": "softmax",
             "first_k_dense_replace": 1, "moe_layer_freq": 1,
             "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
             "rope_theta": 10000,
             "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096,
                              "beta_fast": 32, "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707},
             "max_position_embeddings": 163840, "rms_norm_eps": 1e-06,
             "bos_token_id": 100000, "eos_token_id": 100001, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
             "aux_loss_alpha": 0.001, "seq_aux": true, "ep_size": 1, "pretraining_tp": 1}
            """;

    /** DeepSeek LLM 67B: Llama layout with grouped-query attention. */
    private static final String LLAMA_67B = """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
             "vocab_size": 102400, "hidden_size": 8192, "intermediate_size": 22016, "num_hidden_layers": 95,
             "num_attention_heads": 64, "num_key_value_heads": 8, "max_position_embeddings": 4096,
             "rms_norm_eps": 1e-06, "rope_theta": 10000, "rope_scaling": null, "tie_word_embeddings": false,
             "bos_token_id": 100000, "eos_token_id": 100001, "torch_dtype": "bfloat16"}
            """;

    private static ConfigException fails(String json, String... parts) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE, json));
        assertTrue(e.getMessage().contains(FILE.toString()), e.getMessage());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "message lacks '" + part + "': " + e.getMessage());
        }
        return e;
    }

    private static String without(String json, String field) throws IOException {
        ObjectNode node = (ObjectNode) JSON.readTree(json);
        node.remove(field);
        return node.toString();
    }

    @Test
    void tinyDeepseekV2LiteFromTestData() {
        ModelConfig c = ConfigLoader.load(TestData.require("tiny-deepseek-v2-lite"));
        assertEquals(Architecture.DEEPSEEK_V2, c.architecture());
        assertTrue(c.isDeepseekV2());
        assertEquals(32, c.kvLoraRank());
        assertEquals(0, c.qLoraRank(), "q_lora_rank null means q_proj is used directly");
        assertFalse(c.isMoeLayer(0));
        assertTrue(c.isMoeLayer(1));
        assertTrue(c.isMoeLayer(2));
        assertEquals(0.32448108219361155, c.softmaxScale(), 1e-12);
        assertEquals("yarn", c.ropeScaling().type());
        assertEquals(40.0, c.ropeScaling().factor());
        assertEquals(4096, c.ropeScaling().originalMaxPositionEmbeddings());
        assertEquals(0.707, c.ropeScaling().mscaleAllDim());
        assertEquals(64, c.hiddenSize());
        assertEquals(102400, c.vocabSize());
        assertEquals(8, c.nRoutedExperts());
        assertEquals(2, c.numExpertsPerTok());
        assertEquals("greedy", c.topkMethod());
        assertEquals(24, c.qkHeadDim());
        assertEquals(40, c.kvCacheWidth());
        assertEquals(100001, c.eosTokenId());
    }

    @Test
    void deepseekV2WithQLoraAndGroupLimitedGreedy() {
        ModelConfig c = ConfigLoader.parse(FILE, DEEPSEEK_V2);
        assertEquals(1536, c.qLoraRank());
        assertEquals(512, c.kvLoraRank());
        assertEquals("group_limited_greedy", c.topkMethod());
        assertEquals(8, c.nGroup());
        assertEquals(3, c.topkGroup());
        assertEquals(160, c.nRoutedExperts());
        assertEquals(16.0, c.routedScalingFactor());
        assertEquals(576, c.kvCacheWidth(), "MLA caches kv_lora_rank + qk_rope_head_dim per token");
        assertFalse(c.isMoeLayer(0));
        assertTrue(c.isMoeLayer(59));
        double m = 0.1 * 0.707 * Math.log(40) + 1;
        assertEquals(m * m / Math.sqrt(192), c.softmaxScale(), 1e-12);
    }

    @Test
    void llamaWithGroupedQueryAttention() {
        ModelConfig c = ConfigLoader.parse(FILE, LLAMA_67B);
        assertEquals(Architecture.LLAMA, c.architecture());
        assertFalse(c.isDeepseekV2());
        assertEquals(64, c.numAttentionHeads());
        assertEquals(8, c.numKeyValueHeads());
        assertEquals(128, c.headDim());
        assertNull(c.ropeScaling());
        assertFalse(c.isMoeLayer(10));
        assertEquals(2 * 8 * 128, c.kvCacheWidth());
        assertEquals(1 / Math.sqrt(128), c.softmaxScale(), 1e-15);
    }

    @Test
    void unknownArchitectureIsNamed() {
        fails(DEEPSEEK_V2.replace("DeepseekV2ForCausalLM", "MixtralForCausalLM"), "MixtralForCausalLM");
    }

    @ParameterizedTest
    @ValueSource(strings = {"architectures", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
            "num_attention_heads", "max_position_embeddings", "rms_norm_eps", "kv_lora_rank", "qk_nope_head_dim",
            "qk_rope_head_dim", "v_head_dim", "moe_intermediate_size", "n_shared_experts", "num_experts_per_tok",
            "topk_method"})
    void missingDeepseekFieldIsNamed(String field) throws IOException {
        fails(without(DEEPSEEK_V2, field), "missing field '" + field + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"factor", "original_max_position_embeddings"})
    void missingYarnFieldIsNamed(String field) throws IOException {
        ObjectNode node = (ObjectNode) JSON.readTree(DEEPSEEK_V2);
        ((ObjectNode) node.get("rope_scaling")).remove(field);
        fails(node.toString(), "missing field 'rope_scaling." + field + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"architectures", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
            "num_attention_heads", "max_position_embeddings", "rms_norm_eps"})
    void missingLlamaFieldIsNamed(String field) throws IOException {
        fails(without(LLAMA_67B, field), "missing field '" + field + "'");
    }

    @Test
    void wrongFieldTypeIsNamed() {
        fails(DEEPSEEK_V2.replace("\"kv_lora_rank\": 512", "\"kv_lora_rank\": \"512\""), "kv_lora_rank", "integer");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"architectures\": [\"LlamaForCausalLM\"],", "{} trailing", "", "[1, 2]"})
    void malformedJson(String json) {
        fails(json, "JSON");
    }

    @Test
    void loadFromFolderAndMissingFile(@TempDir Path dir) throws IOException {
        ConfigException missing = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir));
        assertTrue(missing.getMessage().contains(dir.resolve("config.json").toString()), missing.getMessage());
        Files.writeString(dir.resolve("config.json"), LLAMA_67B);
        assertEquals(95, ConfigLoader.load(dir).numHiddenLayers());
    }
}

package io.latentserve.model.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** Reads a HuggingFace config.json into a {@link ModelConfig}, naming any missing or bad field. */
public final class ConfigLoader {

    /** Refuses text after the object: a config with trailing garbage is damaged, not merely verbose. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final Set<String> TOPK_METHODS = Set.of("greedy", "group_limited_greedy");

    private final Path file;
    private final JsonNode root;

    private ConfigLoader(Path file, JsonNode root) {
        this.file = file;
        this.root = root;
    }

    /** Loads `config.json` from a checkpoint folder (or the file itself). */
    public static ModelConfig load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("no config.json at " + file);
        }
        try {
            return parse(file, Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses config.json text; `file` is only used in messages. */
    public static ModelConfig parse(Path file, String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new ConfigException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(file + " must hold a JSON object");
        }
        return new ConfigLoader(file, root).toConfig();
    }

    private ModelConfig toConfig() {
        Architecture arch = architecture();
        return arch == Architecture.DEEPSEEK_V2 ? deepseekV2() : llama();
    }

    private Architecture architecture() {
        JsonNode archs = root.get("architectures");
        if (archs == null || !archs.isArray() || archs.isEmpty()) {
            throw new ConfigException(file + ": missing field 'architectures'");
        }
        String name = archs.get(0).asText();
        Architecture arch = Architecture.fromHfName(name);
        if (arch == null) {
            throw new ConfigException(file + ": unsupported architecture '" + name
                    + "' (supported: DeepseekV2ForCausalLM, LlamaForCausalLM)");
        }
        return arch;
    }

    private ModelConfig deepseekV2() {
        int heads = requireInt("num_attention_heads");
        int nRouted = optionalInt("n_routed_experts", 0);
        String topkMethod = nRouted > 0 ? requireText("topk_method") : "greedy";
        if (!TOPK_METHODS.contains(topkMethod)) {
            throw new ConfigException(file + ": topk_method '" + topkMethod + "' is not supported (greedy, group_limited_greedy)");
        }
        String scoring = optionalText("scoring_func", "softmax");
        if (!scoring.equals("softmax")) {
            throw new ConfigException(file + ": scoring_func '" + scoring + "' is not supported (DeepSeek-V2 uses softmax)");
        }
        ModelConfig c = new ModelConfig(Architecture.DEEPSEEK_V2, optionalText("model_type", "deepseek_v2"),
                requireInt("vocab_size"), requireInt("hidden_size"), requireInt("intermediate_size"),
                requireInt("num_hidden_layers"), heads, optionalInt("num_key_value_heads", heads),
                requireInt("max_position_embeddings"), requireDouble("rms_norm_eps"), optionalDouble("rope_theta", 10000),
                ropeScaling(), optionalBool("tie_word_embeddings", false),
                optionalInt("bos_token_id", -1), optionalInt("eos_token_id", -1), optionalText("torch_dtype", "bfloat16"),
                0,
                optionalInt("q_lora_rank", 0), requireInt("kv_lora_rank"), requireInt("qk_nope_head_dim"),
                requireInt("qk_rope_head_dim"), requireInt("v_head_dim"),
                nRouted > 0 ? requireInt("moe_intermediate_size") : 0, nRouted,
                nRouted > 0 ? requireInt("n_shared_experts") : 0,
                nRouted > 0 ? requireInt("num_experts_per_tok") : 0,
                optionalInt("n_group", 1), optionalInt("topk_group", 1), topkMethod,
                optionalDouble("routed_scaling_factor", 1.0), optionalBool("norm_topk_prob", false), scoring,
                optionalInt("first_k_dense_replace", 0), optionalInt("moe_layer_freq", 1));
        validateDeepseek(c);
        return c;
    }

    private void validateDeepseek(ModelConfig c) {
        positive(c.vocabSize(), "vocab_size");
        positive(c.hiddenSize(), "hidden_size");
        positive(c.numHiddenLayers(), "num_hidden_layers");
        positive(c.numAttentionHeads(), "num_attention_heads");
        positive(c.kvLoraRank(), "kv_lora_rank");
        positive(c.qkNopeHeadDim(), "qk_nope_head_dim");
        positive(c.vHeadDim(), "v_head_dim");
        if (c.qkRopeHeadDim() <= 0 || c.qkRopeHeadDim() % 2 != 0) {
            throw new ConfigException(file + ": qk_rope_head_dim must be a positive even number, got " + c.qkRopeHeadDim());
        }
        if (c.nRoutedExperts() > 0) {
            if (c.numExpertsPerTok() <= 0 || c.numExpertsPerTok() > c.nRoutedExperts()) {
                throw new ConfigException(file + ": num_experts_per_tok must be in 1.." + c.nRoutedExperts());
            }
            if (c.nGroup() <= 0 || c.nRoutedExperts() % c.nGroup() != 0) {
                throw new ConfigException(file + ": n_routed_experts (" + c.nRoutedExperts()
                        + ") must be a multiple of n_group (" + c.nGroup() + ")");
            }
            if (c.topkGroup() <= 0 || c.topkGroup() > c.nGroup()) {
                throw new ConfigException(file + ": topk_group must be in 1..n_group (" + c.nGroup() + ")");
            }
            positive(c.moeLayerFreq(), "moe_layer_freq");
            positive(c.moeIntermediateSize(), "moe_intermediate_size");
        }
    }

    private ModelConfig llama() {
        int heads = requireInt("num_attention_heads");
        int hidden = requireInt("hidden_size");
        int kvHeads = optionalInt("num_key_value_heads", heads);
        int headDim = optionalInt("head_dim", heads > 0 ? hidden / heads : 0);
        positive(heads, "num_attention_heads");
        positive(kvHeads, "num_key_value_heads");
        if (heads % kvHeads != 0) {
            throw new ConfigException(file + ": num_attention_heads (" + heads
                    + ") must be a multiple of num_key_value_heads (" + kvHeads + ")");
        }
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new ConfigException(file + ": head_dim must be a positive even number, got " + headDim);
        }
        RopeScaling scaling = ropeScaling();
        if (scaling != null && !scaling.type().equals("linear")) {
            throw new ConfigException(file + ": rope_scaling type '" + scaling.type() + "' is not supported for Llama models (linear)");
        }
        ModelConfig c = new ModelConfig(Architecture.LLAMA, optionalText("model_type", "llama"),
                requireInt("vocab_size"), hidden, requireInt("intermediate_size"), requireInt("num_hidden_layers"),
                heads, kvHeads, requireInt("max_position_embeddings"), requireDouble("rms_norm_eps"),
                optionalDouble("rope_theta", 10000), scaling, optionalBool("tie_word_embeddings", false),
                optionalInt("bos_token_id", -1), optionalInt("eos_token_id", -1), optionalText("torch_dtype", "bfloat16"),
                headDim, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, 1.0, false, null, 0, 1);
        positive(c.vocabSize(), "vocab_size");
        positive(c.numHiddenLayers(), "num_hidden_layers");
        return c;
    }

    private RopeScaling ropeScaling() {
        JsonNode node = root.get("rope_scaling");
        if (node == null || node.isNull()) {
            return null;
        }
        String type = node.hasNonNull("type") ? node.get("type").asText() : node.path("rope_type").asText("");
        if (type.equals("linear")) {
            return new RopeScaling(type, requireNumber(node, "rope_scaling.factor").asDouble(), 0, 0, 0, 1, 0);
        }
        if (!type.equals("yarn")) {
            throw new ConfigException(file + ": rope_scaling type '" + type + "' is not supported (yarn, linear)");
        }
        return new RopeScaling(type,
                requireNumber(node, "rope_scaling.factor").asDouble(),
                requireNumber(node, "rope_scaling.original_max_position_embeddings").asInt(),
                node.path("beta_fast").asDouble(32), node.path("beta_slow").asDouble(1),
                node.path("mscale").asDouble(1), node.path("mscale_all_dim").asDouble(0));
    }

    private JsonNode requireNumber(JsonNode node, String path) {
        String leaf = path.substring(path.lastIndexOf('.') + 1);
        JsonNode v = node.get(leaf);
        if (v == null || v.isNull()) {
            throw new ConfigException(file + ": missing field '" + path + "'");
        }
        if (!v.isNumber()) {
            throw new ConfigException(file + ": field '" + path + "' must be a number, got " + v);
        }
        return v;
    }

    private int requireInt(String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            throw new ConfigException(file + ": missing field '" + field + "'");
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new ConfigException(file + ": field '" + field + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    private int optionalInt(String field, int fallback) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (v.isArray() && !v.isEmpty() && v.get(0).isIntegralNumber()) {
            return v.get(0).asInt(); // e.g. eos_token_id given as a list: the first is the primary one
        }
        return requireInt(field);
    }

    private double requireDouble(String field) {
        return requireNumber(root, field).asDouble();
    }

    private double optionalDouble(String field, double fallback) {
        JsonNode v = root.get(field);
        return v == null || v.isNull() ? fallback : requireNumber(root, field).asDouble();
    }

    private boolean optionalBool(String field, boolean fallback) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw new ConfigException(file + ": field '" + field + "' must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    private String requireText(String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            throw new ConfigException(file + ": missing field '" + field + "'");
        }
        return v.asText();
    }

    private String optionalText(String field, String fallback) {
        JsonNode v = root.get(field);
        return v == null || v.isNull() ? fallback : v.asText();
    }

    private void positive(int value, String field) {
        if (value <= 0) {
            throw new ConfigException(file + ": field '" + field + "' must be positive, got " + value);
        }
    }
}

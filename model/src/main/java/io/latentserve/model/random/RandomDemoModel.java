package io.latentserve.model.random;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.latentserve.model.checkpoint.DType;
import io.latentserve.model.checkpoint.SafetensorsWriter;
import io.latentserve.model.checkpoint.TensorView;
import io.latentserve.model.config.ConfigLoader;
import io.latentserve.model.config.ModelConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A random-weight demo checkpoint: deterministic random weights in the DeepSeek-V2 architecture (MLA, MoE, YaRN)
 * with a byte-level vocabulary, written once as an ordinary HuggingFace checkpoint folder and then loaded
 * through the normal path. Its output is gibberish; tests and benchmarks that want a tiny model with no trained
 * behaviour use it. The built-in default is the trained {@link DemoModel}.
 */
public final class RandomDemoModel {
    /** Bump when the generated files change, so stale caches are not reused. */
    public static final String VERSION = "random-v1";
    public static final String NAME = "latentserve-demo-" + VERSION;
    static final long SEED = 20261128L;


    private RandomDemoModel() {
    }

    /** Returns the demo checkpoint folder under cacheRoot, creating it on first use (atomically). */
    public static Path ensure(Path cacheRoot) {
        Path dir = cacheRoot.resolve(NAME);
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) {
            return dir;
        }
        try {
            Files.createDirectories(cacheRoot);
            Path tmp = Files.createTempDirectory(cacheRoot, NAME + ".tmp");
            write(tmp);
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                if (!Files.isRegularFile(dir.resolve("model.safetensors"))) {
                    throw raced;
                }
                deleteTree(tmp); // another process created it first
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the random demo model under " + cacheRoot, e);
        }
    }

    static String configJson() {
        return """
                {
                  "architectures": ["DeepseekV2ForCausalLM"],
                  "model_type": "deepseek_v2",
                  "vocab_size": 512,
                  "hidden_size": 256,
                  "intermediate_size": 512,
                  "moe_intermediate_size": 128,
                  "num_hidden_layers": 4,
                  "num_attention_heads": 4,
                  "num_key_value_heads": 4,
                  "n_routed_experts": 8,
                  "n_shared_experts": 2,
                  "num_experts_per_tok": 2,
                  "n_group": 1,
                  "topk_group": 1,
                  "topk_method": "greedy",
                  "routed_scaling_factor": 1.0,
                  "norm_topk_prob": false,
                  "scoring_func": "softmax",
                  "first_k_dense_replace": 1,
                  "moe_layer_freq": 1,
                  "q_lora_rank": null,
                  "kv_lora_rank": 64,
                  "qk_nope_head_dim": 32,
                  "qk_rope_head_dim": 16,
                  "v_head_dim": 32,
                  "rope_theta": 10000,
                  "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096,
                                   "beta_fast": 32, "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707},
                  "max_position_embeddings": 16384,
                  "rms_norm_eps": 1e-06,
                  "bos_token_id": 256,
                  "eos_token_id": 257,
                  "tie_word_embeddings": false,
                  "torch_dtype": "bfloat16"
                }
                """;
    }

    private static void write(Path dir) throws IOException {
        String config = configJson();
        Files.writeString(dir.resolve("config.json"), config);
        ModelConfig c = ConfigLoader.parse(dir.resolve("config.json"), config);
        SafetensorsWriter writer = new SafetensorsWriter();
        try (RandomTensorStore store = new RandomTensorStore(c, SEED)) {
            for (String name : store.names()) {
                TensorView v = store.get(name);
                writer.add(name, DType.BF16, v.shape(), v.data().toArray(ValueLayout.JAVA_BYTE));
            }
        }
        writer.write(dir.resolve("model.safetensors"));
        ObjectMapper json = new ObjectMapper();
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer.json").toFile(), tokenizerJson(json));
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), tokenizerConfig(json));
    }

    /** A byte-level vocabulary: one token per byte (GPT-2 byte alphabet), no merges, plus the special tokens. */
    static ObjectNode tokenizerJson(ObjectMapper json) {
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {DemoModel.BOS, DemoModel.EOS, DemoModel.FIM_HOLE, DemoModel.FIM_BEGIN, DemoModel.FIM_END};
        for (int i = 0; i < specials.length; i++) {
            added.addObject().put("id", 256 + i).put("content", specials[i]).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", true);
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        post.putArray("single").addObject().putObject("SpecialToken").put("id", DemoModel.BOS).put("type_id", 0);
        ((ArrayNode) post.get("single")).addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ObjectNode bos = post.putObject("special_tokens").putObject(DemoModel.BOS);
        bos.put("id", DemoModel.BOS);
        bos.putArray("ids").add(256);
        bos.putArray("tokens").add(DemoModel.BOS);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true)
                .put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.putNull("unk_token");
        model.put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) {
            vocab.put(byteSymbol(b), b);
        }
        model.putArray("merges");
        return root;
    }

    private static ObjectNode tokenizerConfig(ObjectMapper json) {
        ObjectNode cfg = json.createObjectNode();
        cfg.put("add_bos_token", true).put("add_eos_token", false);
        cfg.put("bos_token", DemoModel.BOS).put("eos_token", DemoModel.EOS);
        cfg.put("model_max_length", 16384);
        cfg.put("chat_template", DemoModel.CHAT_TEMPLATE);
        return cfg;
    }

    /** GPT-2's byte-to-unicode map: printable bytes map to themselves, the other 68 to U+0100 upward. */
    static String byteSymbol(int b) {
        boolean printable = b >= 0x21 && b <= 0x7E || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF;
        if (printable) {
            return String.valueOf((char) b);
        }
        int n = 0;
        for (int x = 0; x < b; x++) {
            boolean p = x >= 0x21 && x <= 0x7E || x >= 0xA1 && x <= 0xAC || x >= 0xAE && x <= 0xFF;
            if (!p) {
                n++;
            }
        }
        return String.valueOf((char) (0x100 + n));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

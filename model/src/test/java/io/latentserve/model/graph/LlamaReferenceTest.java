package io.latentserve.model.graph;

import io.latentserve.model.RandomModels;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.checkpoint.Floats;
import io.latentserve.model.checkpoint.TensorStore;
import io.latentserve.model.config.ModelConfig;
import io.latentserve.model.cpu.CpuBackend;
import io.latentserve.model.random.RandomTensorStore;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * DeepSeek LLM (Llama layout) against a plain double-precision reference written from MODEL_SPEC 3.5:
 * full recompute, no cache, split-half RoPE, GQA by head // (H / KVH).
 */
class LlamaReferenceTest {

    @ParameterizedTest
    @CsvSource({"4, 4", "4, 2", "4, 1"})
    void matchesThePlainReference(int heads, int kvHeads) {
        ModelConfig c = RandomModels.llamaConfig(heads, kvHeads);
        int[] tokens = {5, 77, 123, 9, 250, 31, 64};
        try (CpuBackend backend = new CpuBackend(2); TensorStore store = new RandomTensorStore(c, 3)) {
            CausalLM model = new LlamaModel(c, new Weights(store, backend));
            try (KvCache cache = model.newKvCache(4, 4)) {
                float[][] logits = model.forward(ForwardBatch.of(new int[][]{tokens}, new int[]{0},
                        new int[][]{{2, 0, 3, 1}}, 4), cache);
                double[] expected = reference(c, store, tokens);
                for (int v = 0; v < c.vocabSize(); v++) {
                    assertEquals(expected[v], logits[0][v], 2e-4, "logit " + v);
                }
            }
        }
    }

    /** Logits of the last token. */
    static double[] reference(ModelConfig c, TensorStore w, int[] tokens) {
        int d = c.hiddenSize();
        int hd = c.headDim();
        int heads = c.numAttentionHeads();
        int kvh = c.numKeyValueHeads();
        int n = tokens.length;
        float[] embed = Floats.toFloats(w.get("model.embed_tokens.weight"));
        double[][] h = new double[n][d];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < d; i++) {
                h[t][i] = embed[tokens[t] * d + i];
            }
        }
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] x = norm(h, w, p + "input_layernorm.weight", c.rmsNormEps());
            double[][] q = linear(x, w, p + "self_attn.q_proj.weight");
            double[][] k = linear(x, w, p + "self_attn.k_proj.weight");
            double[][] v = linear(x, w, p + "self_attn.v_proj.weight");
            for (int t = 0; t < n; t++) {
                rope(q[t], heads, hd, t, c.ropeTheta());
                rope(k[t], kvh, hd, t, c.ropeTheta());
            }
            double[][] o = new double[n][heads * hd];
            for (int t = 0; t < n; t++) {
                for (int hh = 0; hh < heads; hh++) {
                    int g = hh / (heads / kvh);
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= t; j++) {
                        for (int i = 0; i < hd; i++) {
                            s[j] += q[t][hh * hd + i] * k[j][g * hd + i];
                        }
                        s[j] /= Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= t; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j <= t; j++) {
                        for (int i = 0; i < hd; i++) {
                            o[t][hh * hd + i] += s[j] / sum * v[j][g * hd + i];
                        }
                    }
                }
            }
            add(h, linear(o, w, p + "self_attn.o_proj.weight"));
            double[][] y = norm(h, w, p + "post_attention_layernorm.weight", c.rmsNormEps());
            double[][] gate = linear(y, w, p + "mlp.gate_proj.weight");
            double[][] up = linear(y, w, p + "mlp.up_proj.weight");
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < gate[t].length; i++) {
                    gate[t][i] = gate[t][i] / (1 + Math.exp(-gate[t][i])) * up[t][i];
                }
            }
            add(h, linear(gate, w, p + "mlp.down_proj.weight"));
        }
        double[][] last = norm(new double[][]{h[n - 1]}, w, "model.norm.weight", c.rmsNormEps());
        return linear(last, w, "lm_head.weight")[0];
    }

    private static void rope(double[] x, int heads, int hd, int pos, double base) {
        int half = hd / 2;
        for (int hh = 0; hh < heads; hh++) {
            for (int i = 0; i < half; i++) {
                double theta = pos * Math.pow(base, -2.0 * i / hd);
                double a = x[hh * hd + i];
                double b = x[hh * hd + i + half];
                x[hh * hd + i] = a * Math.cos(theta) - b * Math.sin(theta);
                x[hh * hd + i + half] = a * Math.sin(theta) + b * Math.cos(theta);
            }
        }
    }

    private static double[][] norm(double[][] x, TensorStore w, String name, double eps) {
        float[] g = Floats.toFloats(w.get(name));
        double[][] out = new double[x.length][x[0].length];
        for (int t = 0; t < x.length; t++) {
            double ss = 0;
            for (double v : x[t]) {
                ss += v * v;
            }
            double inv = 1 / Math.sqrt(ss / x[t].length + eps);
            for (int i = 0; i < x[t].length; i++) {
                out[t][i] = x[t][i] * inv * g[i];
            }
        }
        return out;
    }

    private static double[][] linear(double[][] x, TensorStore w, String name) {
        var view = w.get(name);
        float[] m = Floats.toFloats(view);
        int rows = view.dim(0);
        int cols = view.dim(1);
        double[][] out = new double[x.length][rows];
        for (int t = 0; t < x.length; t++) {
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int k = 0; k < cols; k++) {
                    s += x[t][k] * m[r * cols + k];
                }
                out[t][r] = s;
            }
        }
        return out;
    }

    private static void add(double[][] acc, double[][] x) {
        for (int t = 0; t < acc.length; t++) {
            for (int i = 0; i < acc[t].length; i++) {
                acc[t][i] += x[t][i];
            }
        }
    }
}

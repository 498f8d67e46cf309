package io.latentserve.model.graph;

import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.RopeTable;
import io.latentserve.model.backend.PendingRows;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.config.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/** DeepSeek LLM 7B/67B (Llama layout): pre-norm, MHA or GQA with split-half RoPE, SwiGLU MLP (MODEL_SPEC 3.5). */
public final class LlamaModel implements CausalLM {
    private final ModelConfig config;
    private final Weights weights;
    private final Tensor embedTokens;   // [V, D]
    private final List<Layer> layers;
    private final OutputHead head;
    private final RopeTable rope;

    private record Layer(RmsNorm inputNorm, Tensor qProj, Tensor kProj, Tensor vProj, Tensor oProj,
                         RmsNorm postNorm, Mlp mlp) {
    }

    public LlamaModel(ModelConfig config, Weights w) {
        this.config = config;
        this.weights = w;
        int d = config.hiddenSize();
        int q = config.numAttentionHeads() * config.headDim();
        int kv = config.numKeyValueHeads() * config.headDim();
        this.embedTokens = w.get("model.embed_tokens.weight", config.vocabSize(), d);
        this.layers = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new Layer(
                    RmsNorm.load(w, p + "input_layernorm.weight", d, config.rmsNormEps()),
                    w.get(p + "self_attn.q_proj.weight", q, d),
                    w.get(p + "self_attn.k_proj.weight", kv, d),
                    w.get(p + "self_attn.v_proj.weight", kv, d),
                    w.get(p + "self_attn.o_proj.weight", d, q),
                    RmsNorm.load(w, p + "post_attention_layernorm.weight", d, config.rmsNormEps()),
                    Mlp.load(w, p + "mlp.", d, config.intermediateSize())));
        }
        this.head = OutputHead.load(w, config, embedTokens);
        this.rope = YarnRope.forConfig(config);
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public Backend backend() {
        return weights.backend();
    }

    @Override
    public float[][] forward(ForwardBatch batch, KvCache cache) {
        return head.logits(backend(), residualStream(batch, cache, null), batch.logitRows());
    }

    @Override
    public SampledRows forwardSampled(ForwardBatch batch, KvCache cache, RowSampling[] sampling) {
        CausalLM.checkSampling(batch, sampling);
        return head.sample(backend(), residualStream(batch, cache, null), batch.logitRows(), sampling);
    }

    /** Markers are resolved by the backend's embedding; the sampled rows' tokens may arrive later. */
    @Override
    public PendingRows launchSampled(ForwardBatch batch, KvCache cache, RowSampling[] sampling, PendingRows previous) {
        CausalLM.checkSampling(batch, sampling);
        return head.launch(backend(), residualStream(batch, cache, previous), batch.logitRows(), sampling, previous);
    }

    /** Runs every layer over the batch (writing its KV); the final residual stream h [T, D] f32. */
    private Tensor residualStream(ForwardBatch batch, KvCache cache, PendingRows previous) {
        Backend b = backend();
        b.beginForward();
        int tokens = batch.numTokens();
        int d = config.hiddenSize();
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int hd = config.headDim();
        AttentionBatch attn = batch.attention();
        Tensor h = b.activation(tokens, d);                      // [T, D] f32
        if (batch.hasMarkers()) {
            b.embedding(embedTokens, batch.tokenIds(), previous, h);
        } else {
            b.embedding(embedTokens, batch.tokenIds(), h);
        }
        Tensor normed = b.activation(tokens, d);                 // [T, D] f32
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            layer.inputNorm().apply(b, h, normed);
            Tensor q = b.activation(tokens, heads * hd);         // [T, H·hd] f32
            Tensor kv = b.activation(tokens, 2 * kvHeads * hd);  // [T, K ; V] f32, one cache row per token
            Tensor k = b.columns(kv, 0, kvHeads * hd);
            b.matmul(normed, layer.qProj(), q);
            b.matmul(normed, layer.kProj(), k);
            b.matmul(normed, layer.vProj(), b.columns(kv, kvHeads * hd, kvHeads * hd));
            b.rope(q, heads, hd, 0, rope, attn.positions());
            b.rope(k, kvHeads, hd, 0, rope, attn.positions());
            b.writeKvCache(cache, i, kv, attn.slotMapping());
            Tensor o = b.activation(tokens, heads * hd);         // [T, H·hd] f32
            b.gqaAttention(q, cache, i, heads, kvHeads, hd, (float) config.softmaxScale(), attn, o);
            Tensor attnOut = b.activation(tokens, d);
            b.matmul(o, layer.oProj(), attnOut);
            b.add(h, attnOut);
            layer.postNorm().apply(b, h, normed);
            Tensor ffnOut = b.activation(tokens, d);
            layer.mlp().forward(b, normed, ffnOut);
            b.add(h, ffnOut);
        }
        return h;
    }

    @Override
    public void close() {
        weights.store().close();
    }
}

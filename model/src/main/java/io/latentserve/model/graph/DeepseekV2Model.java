package io.latentserve.model.graph;

import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.backend.RopeTable;
import io.latentserve.model.backend.PendingRows;
import io.latentserve.model.backend.RowSampling;
import io.latentserve.model.backend.SampledRows;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.config.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * DeepSeek-V2 / V2-Lite / Coder-V2: h = embed[ids]; per layer h += Attn(norm(h)); h += FFN(norm(h));
 * logits = norm(h) · lm_headᵀ (MODEL_SPEC 3).
 */
public final class DeepseekV2Model implements CausalLM {
    private final ModelConfig config;
    private final Weights weights;
    private final Tensor embedTokens;   // [V, D]
    private final List<Layer> layers;
    private final OutputHead head;
    private final RopeTable rope;
    private volatile MlaMode mlaMode = MlaMode.AUTO;

    /** One decoder layer: MLA then a dense MLP or the MoE. */
    private record Layer(RmsNorm inputNorm, Mla attention, RmsNorm postNorm, Mlp mlp, Moe moe) {
    }

    public DeepseekV2Model(ModelConfig config, Weights w) {
        if (!config.isDeepseekV2()) {
            throw new IllegalArgumentException("not a DeepSeek-V2 config: " + config.architecture());
        }
        this.config = config;
        this.weights = w;
        int d = config.hiddenSize();
        this.embedTokens = w.get("model.embed_tokens.weight", config.vocabSize(), d);
        this.layers = new ArrayList<>(config.numHiddenLayers());
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            boolean moe = config.isMoeLayer(i);
            layers.add(new Layer(
                    RmsNorm.load(w, p + "input_layernorm.weight", d, config.rmsNormEps()),
                    new Mla(w, p + "self_attn.", config, i),
                    RmsNorm.load(w, p + "post_attention_layernorm.weight", d, config.rmsNormEps()),
                    moe ? null : Mlp.load(w, p + "mlp.", d, config.intermediateSize()),
                    moe ? new Moe(w, p + "mlp.", config) : null));
        }
        this.head = OutputHead.load(w, config, embedTokens);
        this.rope = YarnRope.forConfig(config);
    }

    /** Forces one MLA form (for tests comparing the absorbed and decompressed paths). */
    public void setMlaMode(MlaMode mode) {
        this.mlaMode = mode;
    }

    String mlaModeName() {
        return mlaMode.name();
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
        AttentionBatch attn = batch.attention();
        MlaMode mode = mlaMode;
        Tensor h = b.activation(tokens, d);                 // [T, D] f32 residual stream
        if (batch.hasMarkers()) {
            b.embedding(embedTokens, batch.tokenIds(), previous, h);
        } else {
            b.embedding(embedTokens, batch.tokenIds(), h);
        }
        Tensor normed = b.activation(tokens, d);            // [T, D] f32
        Tensor ffnOut = null;                               // the previous layer's, not yet added to h
        for (Layer layer : layers) {
            // each residual add runs fused with the norm that follows it (Backend.addRmsNorm)
            if (ffnOut == null) {
                layer.inputNorm().apply(b, h, normed);
            } else {
                layer.inputNorm().applyAfterAdd(b, h, ffnOut, normed);
            }
            Tensor attnOut = b.activation(tokens, d);       // [T, D] f32
            layer.attention().forward(b, normed, cache, attn, rope, mode, attnOut);
            layer.postNorm().applyAfterAdd(b, h, attnOut, normed);
            ffnOut = b.activation(tokens, d);               // [T, D] f32, zero
            if (layer.moe() != null) {
                layer.moe().forward(b, normed, ffnOut);
            } else {
                layer.mlp().forward(b, normed, ffnOut);
            }
        }
        if (ffnOut != null) {
            b.add(h, ffnOut);
        }
        return h;
    }

    @Override
    public void close() {
        weights.store().close();
    }
}

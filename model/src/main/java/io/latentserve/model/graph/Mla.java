package io.latentserve.model.graph;

import io.latentserve.model.backend.AttentionBatch;
import io.latentserve.model.backend.Backend;
import io.latentserve.model.backend.KvCache;
import io.latentserve.model.backend.MlaMode;
import io.latentserve.model.backend.MlaShape;
import io.latentserve.model.backend.RopeTable;
import io.latentserve.model.backend.Tensor;
import io.latentserve.model.config.ModelConfig;

/**
 * Multi-head latent attention (MODEL_SPEC 3.1–3.3): projects the query (optionally through q-LoRA), compresses
 * the KV into the normalized latent c̃ and the shared rotary key k̃, caches [c̃ ; k̃], and attends over the cache.
 */
final class Mla {
    private final int layer;
    private final MlaShape shape;
    private final Tensor qProj;        // [H·(dn+dr), D] when q_lora_rank is null
    private final Tensor qAProj;       // [rq, D]
    private final RmsNorm qANorm;      // [rq]
    private final Tensor qBProj;       // [H·(dn+dr), rq]
    private final Tensor kvAProj;      // [r+dr, D]
    private final RmsNorm kvANorm;     // [r]
    private final Tensor kvBProj;      // [H·(dn+dv), r]
    private final Tensor oProj;        // [D, H·dv]
    private final int qLoraRank;

    Mla(Weights w, String prefix, ModelConfig c, int layer) {
        this.layer = layer;
        int d = c.hiddenSize();
        int h = c.numAttentionHeads();
        this.shape = new MlaShape(h, c.qkNopeHeadDim(), c.qkRopeHeadDim(), c.vHeadDim(), c.kvLoraRank(),
                (float) c.softmaxScale());
        this.qLoraRank = c.qLoraRank();
        int qWidth = h * c.qkHeadDim();
        if (qLoraRank == 0) {
            this.qProj = w.get(prefix + "q_proj.weight", qWidth, d);
            this.qAProj = null;
            this.qANorm = null;
            this.qBProj = null;
        } else {
            this.qProj = null;
            this.qAProj = w.get(prefix + "q_a_proj.weight", qLoraRank, d);
            this.qANorm = RmsNorm.load(w, prefix + "q_a_layernorm.weight", qLoraRank, 1e-6);
            this.qBProj = w.get(prefix + "q_b_proj.weight", qWidth, qLoraRank);
        }
        this.kvAProj = w.get(prefix + "kv_a_proj_with_mqa.weight", c.kvLoraRank() + c.qkRopeHeadDim(), d);
        this.kvANorm = RmsNorm.load(w, prefix + "kv_a_layernorm.weight", c.kvLoraRank(), 1e-6);
        this.kvBProj = w.get(prefix + "kv_b_proj.weight", (long) h * (c.qkNopeHeadDim() + c.vHeadDim()), c.kvLoraRank());
        this.oProj = w.get(prefix + "o_proj.weight", d, (long) h * c.vHeadDim());
    }

    /** out = Attn(x); x and out [T, D]. */
    void forward(Backend b, Tensor x, KvCache cache, AttentionBatch batch, RopeTable rope, MlaMode mode, Tensor out) {
        int tokens = x.rows();
        Tensor q = b.activation(tokens, shape.numHeads() * shape.qkHeadDim()); // [T, H·(dn+dr)] f32
        if (qLoraRank == 0) {
            b.matmul(x, qProj, q);
        } else {
            Tensor qa = b.activation(tokens, qLoraRank);                          // [T, rq] f32
            b.matmul(x, qAProj, qa);
            qANorm.apply(b, qa, qa);
            b.matmul(qa, qBProj, q);
        }
        b.rope(q, shape.numHeads(), shape.qkHeadDim(), shape.qkNopeHeadDim(), rope, batch.positions());

        Tensor kvA = b.activation(tokens, shape.cacheWidth());                   // [T, r+dr] f32 = [c ; k_pe]
        b.matmul(x, kvAProj, kvA);
        // c̃ = norm(c) and k_pe rotated, in place, then into the cache (one pass where the backend fuses it)
        b.mlaLatentRows(kvA, shape.kvLoraRank(), shape.qkRopeHeadDim(), kvANorm.weight(), kvANorm.eps(), rope,
                batch.positions(), cache, layer, batch.slotMapping());

        Tensor attn = b.activation(tokens, shape.numHeads() * shape.vHeadDim());  // [T, H·dv] f32
        b.mlaAttention(q, cache, layer, kvBProj, shape, batch, mode, attn);
        b.matmul(attn, oProj, out);
    }
}

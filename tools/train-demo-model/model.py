"""DeepSeek-V2 in PyTorch, written to MODEL_SPEC.md section 3 (the math LatentServe's Java graph runs):
MLA with the compressed latent (kv_a_layernorm on it), interleaved RoPE pairs (x[2i], x[2i+1]) with YaRN
frequencies and the mscale^2 softmax scale, RMSNorm in f32, a dense first layer, and DeepSeekMoE (softmax
router, greedy top-k, weights times routed_scaling_factor, shared experts always on)."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def yarn_mscale(scale, m):
    return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0


def rope_table(cfg):
    """(inv_freq [d/2] f32, amplitude): YaRN as MODEL_SPEC 3.2 (computed in f64, stored f32, like the Java)."""
    d, base = cfg["qk_rope_head_dim"], cfg["rope_theta"]
    i = np.arange(d // 2, dtype=np.float64)
    extra = base ** (-2.0 * i / d)
    s = cfg.get("rope_scaling")
    if not s:
        return torch.tensor(extra.astype(np.float32)), 1.0
    corr = lambda n: d * math.log(s["original_max_position_embeddings"] / (n * 2 * math.pi)) / (2 * math.log(base))
    low = max(math.floor(corr(s["beta_fast"])), 0)
    high = min(math.ceil(corr(s["beta_slow"])), d - 1)
    if low == high:
        high += 0.001
    ramp = np.clip((i - low) / (high - low), 0.0, 1.0)
    inv = extra * (1 - ramp) + extra / s["factor"] * ramp
    amp = yarn_mscale(s["factor"], s["mscale"]) / yarn_mscale(s["factor"], s["mscale_all_dim"] or 1)
    return torch.tensor(inv.astype(np.float32)), float(np.float32(amp))


def softmax_scale(cfg):
    scale = (cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]) ** -0.5
    s = cfg.get("rope_scaling")
    if s and s.get("mscale_all_dim"):
        m = yarn_mscale(s["factor"], s["mscale_all_dim"])
        scale *= m * m
    return scale


def apply_rope(x, cos, sin):
    """x [..., T, heads, dr]; pairs (x[2i], x[2i+1]) rotate by pos * inv_freq[i]; cos/sin [T, dr/2]."""
    a, b = x[..., 0::2], x[..., 1::2]
    c, s = cos[:, None, :], sin[:, None, :]
    return torch.stack((a * c - b * s, a * s + b * c), dim=-1).flatten(-2)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        x = x.float()
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class MLP(nn.Module):
    def __init__(self, d, inter):
        super().__init__()
        self.gate_proj = nn.Linear(d, inter, bias=False)
        self.up_proj = nn.Linear(d, inter, bias=False)
        self.down_proj = nn.Linear(inter, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Gate(nn.Module):
    def __init__(self, d, experts):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(experts, d))


class MoE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, im = cfg["hidden_size"], cfg["moe_intermediate_size"]
        self.k = cfg["num_experts_per_tok"]
        self.scale = cfg["routed_scaling_factor"]
        self.gate = Gate(d, cfg["n_routed_experts"])
        self.experts = nn.ModuleList(MLP(d, im) for _ in range(cfg["n_routed_experts"]))
        self.shared_experts = MLP(d, cfg["n_shared_experts"] * im)
        self.aux_loss = None

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])                              # [N, D]
        scores = F.softmax(x.float() @ self.gate.weight.t(), -1)  # [N, E] f32
        top_w, top_i = scores.topk(self.k, dim=-1)                # greedy top-k; norm_topk_prob false
        top_w = top_w * self.scale
        y = self.shared_experts(x)
        for e, expert in enumerate(self.experts):
            tok, slot = (top_i == e).nonzero(as_tuple=True)
            if tok.numel():
                y = y.index_add(0, tok, expert(x[tok]) * top_w[tok, slot, None])
        if self.training:  # expert-level balance loss (DeepSeek-V2's L_ExpBal), training only
            e = scores.shape[-1]
            load = torch.zeros(e).index_add_(0, top_i.flatten(), torch.ones(top_i.numel())) * e / top_i.numel()
            self.aux_loss = (load.detach() * scores.mean(0)).sum()
        return y.reshape(shape)


class MLA(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, h = cfg["hidden_size"], cfg["num_attention_heads"]
        self.h, self.dn, self.dr, self.dv = h, cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
        self.r = cfg["kv_lora_rank"]
        self.q_proj = nn.Linear(d, h * (self.dn + self.dr), bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(d, self.r + self.dr, bias=False)
        self.kv_a_layernorm = RMSNorm(self.r, 1e-6)
        self.kv_b_proj = nn.Linear(self.r, h * (self.dn + self.dv), bias=False)
        self.o_proj = nn.Linear(h * self.dv, d, bias=False)
        self.scale = softmax_scale(cfg)

    def forward(self, x, cos, sin, mask):
        bsz, t, _ = x.shape
        q = self.q_proj(x).view(bsz, t, self.h, self.dn + self.dr)
        q_nope, q_pe = q.split([self.dn, self.dr], -1)
        c, k_pe = self.kv_a_proj_with_mqa(x).split([self.r, self.dr], -1)
        kv = self.kv_b_proj(self.kv_a_layernorm(c)).view(bsz, t, self.h, self.dn + self.dv)
        k_nope, v = kv.split([self.dn, self.dv], -1)
        q_pe = apply_rope(q_pe, cos, sin)
        k_pe = apply_rope(k_pe.view(bsz, t, 1, self.dr), cos, sin)
        q = torch.cat((q_nope, q_pe), -1).transpose(1, 2)                                    # [B, H, T, dn+dr]
        k = torch.cat((k_nope, k_pe.expand(bsz, t, self.h, self.dr)), -1).transpose(1, 2)    # [B, H, T, dn+dr]
        scores = (q @ k.transpose(-1, -2)) * self.scale + mask                              # [B, H, T, T] f32
        o = F.softmax(scores.float(), -1) @ v.transpose(1, 2)                               # [B, H, T, dv]
        return self.o_proj(o.transpose(1, 2).reshape(bsz, t, self.h * self.dv))


class Layer(nn.Module):
    def __init__(self, cfg, i):
        super().__init__()
        d, eps = cfg["hidden_size"], cfg["rms_norm_eps"]
        self.input_layernorm = RMSNorm(d, eps)
        self.self_attn = MLA(cfg)
        self.post_attention_layernorm = RMSNorm(d, eps)
        moe = cfg["n_routed_experts"] and i >= cfg["first_k_dense_replace"] and i % cfg["moe_layer_freq"] == 0
        self.mlp = MoE(cfg) if moe else MLP(d, cfg["intermediate_size"])

    def forward(self, h, cos, sin, mask):
        h = h + self.self_attn(self.input_layernorm(h), cos, sin, mask)
        return h + self.mlp(self.post_attention_layernorm(h))


class Inner(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList(Layer(cfg, i) for i in range(cfg["num_hidden_layers"]))
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])


class DeepseekV2ForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = Inner(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        inv, amp = rope_table(cfg)
        self.register_buffer("inv_freq", inv, persistent=False)
        self.amplitude = amp

    def init_weights(self, generator, std=0.02):
        n = self.cfg["num_hidden_layers"]
        for name, p in self.named_parameters():
            if name.endswith("layernorm.weight") or name.endswith("norm.weight"):
                nn.init.ones_(p)
            else:
                s = std / math.sqrt(2 * n) if name.endswith(("o_proj.weight", "down_proj.weight")) else std
                with torch.no_grad():
                    p.copy_(torch.randn(p.shape, generator=generator) * s)

    def forward(self, ids):
        """ids [B, T] -> logits [B, T, V] f32 (positions 0..T-1)."""
        t = ids.shape[1]
        angle = torch.arange(t, dtype=torch.float32)[:, None] * self.inv_freq[None, :]  # f32 product
        cos, sin = torch.cos(angle) * self.amplitude, torch.sin(angle) * self.amplitude
        mask = torch.full((t, t), float("-inf")).triu(1)
        h = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            h = layer(h, cos, sin, mask)
        return self.lm_head(self.model.norm(h)).float()

    def aux_loss(self):
        losses = [l.mlp.aux_loss for l in self.model.layers if isinstance(l.mlp, MoE) and l.mlp.aux_loss is not None]
        return sum(losses) if losses else torch.zeros(())

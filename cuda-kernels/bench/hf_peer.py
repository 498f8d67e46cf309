"""The HuggingFace transformers peer of `latentserve bench --device cuda`: DeepSeek-V2-Lite's exact config in
transformers' own DeepseekV2 implementation, bf16 on the GPU, with the SAME random weights (every value made
from its checkpoint tensor name by the counter-based hash of io.latentserve.model.random.HashFill), timed at
the same decode shapes (B sequences with C cached tokens each, one token per step; the cache is made
directly, zeroed, as the Java suite makes its own) and the same prefill. Prints progress and writes one JSON
report: {"rows": [{"name", "batch", "context", "tokens", "tokensPerSecond", ...}], "sameWeights": bool}.

    python3 hf_peer.py --json OUT.json [--batches 1,16,64,256] [--contexts 1024,4096] [--prefill-tokens 4096]
"""
import argparse, json, math, os, sys, time
import numpy as np
import torch

M32 = 0xFFFFFFFF
MODEL_SEED = 42
# The prompt DeviceBench.REFERENCE_PROMPT runs too: last-token logits compared end to end (report.py).
REFERENCE_PROMPT = [100000, 17, 4, 1234, 56, 789, 10, 2024, 3, 99, 512, 7, 64, 8, 1000, 31]

V2_LITE = dict(vocab_size=102400, hidden_size=2048, intermediate_size=10944, moe_intermediate_size=1408,
               num_hidden_layers=27, num_attention_heads=16, num_key_value_heads=16, n_routed_experts=64,
               n_shared_experts=2, num_experts_per_tok=6, n_group=1, topk_group=1, topk_method="greedy",
               routed_scaling_factor=1.0, norm_topk_prob=False, first_k_dense_replace=1,
               q_lora_rank=None, kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128,
               rope_theta=10000.0, max_position_embeddings=163840, rms_norm_eps=1e-6, bos_token_id=100000,
               eos_token_id=100001, tie_word_embeddings=False,
               rope_scaling={"type": "yarn", "rope_type": "yarn", "factor": 40.0,
                             "original_max_position_embeddings": 4096, "beta_fast": 32, "beta_slow": 1,
                             "mscale": 0.707, "mscale_all_dim": 0.707})


def fnv1a(name):
    h = 0x811C9DC5
    for b in name.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & M32
    return h


def fill_spec(name, shape):
    """(seed, mean, amplitude) exactly as HashFill.forTensor computes them, f32 arithmetic included."""
    seed = (fnv1a(name) ^ MODEL_SEED) & M32
    sqrt3 = np.float32(math.sqrt(3.0))
    if name.endswith("norm.weight"):
        return seed, np.float32(1.0), np.float32(np.float32(0.1) * sqrt3)
    if name.endswith("embed_tokens.weight"):
        return seed, np.float32(0.0), sqrt3
    return seed, np.float32(0.0), np.float32(float(sqrt3) / math.sqrt(shape[-1]))


def hashed_bf16(name, shape, device):
    """The bf16 tensor HashFill makes for this checkpoint name: lowbias32 in int64 arithmetic masked to 32 bits."""
    seed, mean, amplitude = fill_spec(name, shape)
    n = int(np.prod(shape))
    h = torch.arange(n, dtype=torch.int64, device=device)
    h = ((h * 0x9E3779B1) & M32) ^ seed
    h = h ^ (h >> 16)
    h = (h * 0x7FEB352D) & M32
    h = h ^ (h >> 15)
    h = (h * 0x846CA68B) & M32
    h = h ^ (h >> 16)
    u = (h >> 8).to(torch.float32) * (2.0 ** -24)
    v = (2.0 * u - 1.0) * float(amplitude) + float(mean)      # f32 ops: scaled (one rounding), then shifted
    bits = (v.view(torch.int32) >> 16).to(torch.int16)        # truncation to bf16, as Java and CUDA do
    return bits.view(torch.bfloat16).reshape(shape)


def fill_model(model, config):
    """Fills every parameter from its checkpoint name(s); returns the names that had no checkpoint twin."""
    inter = config.moe_intermediate_size
    unmatched = []
    with torch.no_grad():
        for name, p in model.named_parameters():
            shape = tuple(p.shape)
            dev = p.device
            if name.endswith("mlp.experts.gate_up_proj") and p.dim() == 3:
                prefix = name[: -len("gate_up_proj")]
                for e in range(shape[0]):
                    g = hashed_bf16(f"{prefix}{e}.gate_proj.weight", (inter, shape[-1] if shape[1] == 2 * inter else shape[1]), dev)
                    u = hashed_bf16(f"{prefix}{e}.up_proj.weight", g.shape, dev)
                    both = torch.cat([g, u], dim=0)               # [2I, D]
                    p[e].copy_(both if shape[1] == 2 * inter else both.t())
            elif name.endswith("mlp.experts.down_proj") and p.dim() == 3:
                prefix = name[: -len("down_proj")]
                for e in range(shape[0]):
                    hidden = shape[1] if shape[2] == inter else shape[2]
                    d = hashed_bf16(f"{prefix}{e}.down_proj.weight", (hidden, inter), dev)   # [D, I]
                    p[e].copy_(d if shape[2] == inter else d.t())
            else:
                if p.dim() > 2:
                    unmatched.append(name)
                p.copy_(hashed_bf16(name, shape, dev))
    return unmatched


def synthetic_cache(model, batch, context, device):
    """A DynamicCache holding `context` zeroed positions per sequence in every layer, shaped by a real step."""
    from transformers import DynamicCache
    probe = DynamicCache()
    with torch.no_grad():
        model(input_ids=torch.zeros((1, 1), dtype=torch.long, device=device), past_key_values=probe, use_cache=True)
    cache = DynamicCache()
    for layer in range(model.config.num_hidden_layers):
        k, v = probe_layer(probe, layer)
        key = torch.zeros((batch, k.shape[1], context, k.shape[3]), dtype=k.dtype, device=device)
        value = torch.zeros((batch, v.shape[1], context, v.shape[3]), dtype=v.dtype, device=device)
        cache.update(key, value, layer)
    return cache


def probe_layer(cache, layer):
    if hasattr(cache, "layers"):
        return cache.layers[layer].keys, cache.layers[layer].values
    return cache.key_cache[layer], cache.value_cache[layer]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--batches", default="1,16,64,256")
    ap.add_argument("--contexts", default="1024,4096")
    ap.add_argument("--prefill-tokens", type=int, default=4096)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--layers", type=int, default=27)
    ap.add_argument("--budget-seconds", type=float, default=240)
    args = ap.parse_args()
    started = time.time()
    report = {"rows": [], "sameWeights": None, "errors": []}

    def save():
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)

    import transformers
    from transformers import DeepseekV2Config, DeepseekV2ForCausalLM
    report["transformers"] = transformers.__version__
    report["torch"] = torch.__version__
    device = torch.device("cuda")
    cfg = dict(V2_LITE, num_hidden_layers=args.layers)
    try:
        config = DeepseekV2Config(**cfg)
    except Exception as e:  # a transformers that names RoPE scaling differently: YaRN changes no timing
        report["errors"].append(f"config without rope_scaling ({type(e).__name__}: {e})"[:300])
        cfg.pop("rope_scaling")
        config = DeepseekV2Config(**cfg)
    try:
        config._attn_implementation = "sdpa"
    except Exception:
        pass
    t0 = time.time()
    torch.set_default_dtype(torch.bfloat16)
    with torch.device(device):
        model = DeepseekV2ForCausalLM(config)
    model.eval()
    unmatched = fill_model(model, config)
    torch.cuda.synchronize()
    report["sameWeights"] = not unmatched
    report["unmatched"] = unmatched
    report["attention"] = getattr(model.config, "_attn_implementation", "?")
    print(f"hf peer: transformers {transformers.__version__}, {sum(p.numel() for p in model.parameters()) / 1e9:.2f} B "
          f"parameters made in {time.time() - t0:.1f} s, attention {report['attention']}, "
          f"same weights as LatentServe: {not unmatched} {unmatched[:3]}", flush=True)
    save()

    gen = torch.Generator(device="cpu").manual_seed(1)
    for context in [int(c) for c in args.contexts.split(",")]:
        for batch in [int(b) for b in args.batches.split(",")]:
            if time.time() - started > args.budget_seconds:
                report["errors"].append(f"budget: skipped B {batch} context {context}")
                continue
            try:
                cache = synthetic_cache(model, batch, context, device)
                pos = context
                times = []
                with torch.no_grad():
                    for step in range(args.steps + 1):
                        ids = torch.randint(0, config.vocab_size, (batch, 1), generator=gen).to(device)
                        position_ids = torch.full((batch, 1), pos, dtype=torch.long, device=device)
                        torch.cuda.synchronize()
                        t = time.time()
                        model(input_ids=ids, past_key_values=cache, position_ids=position_ids, use_cache=True)
                        torch.cuda.synchronize()
                        if step > 0:                      # step 0 is the warm-up
                            times.append(time.time() - t)
                        pos += 1
                step_s = sum(times) / len(times)
                row = {"name": "decode", "batch": batch, "context": context, "stepSeconds": step_s,
                       "tokensPerSecond": batch / step_s}
                report["rows"].append(row)
                print(f"hf peer: decode B {batch} context {context}: {step_s * 1e3:.1f} ms/step, "
                      f"{batch / step_s:.1f} tok/s", flush=True)
                del cache
                torch.cuda.empty_cache()
            except Exception as e:  # one failing shape (e.g. out of memory) must not lose the others
                report["errors"].append(f"decode B {batch} context {context}: {type(e).__name__}: {e}"[:500])
                print("hf peer:", report["errors"][-1], flush=True)
                torch.cuda.empty_cache()
            save()
    if args.prefill_tokens > 0 and time.time() - started < args.budget_seconds:
        try:
            ids = torch.randint(0, config.vocab_size, (1, args.prefill_tokens), generator=gen).to(device)
            with torch.no_grad():
                model(input_ids=ids, use_cache=False)
                torch.cuda.synchronize()
                t = time.time()
                for _ in range(2):
                    model(input_ids=ids, use_cache=False)
                torch.cuda.synchronize()
            s = (time.time() - t) / 2
            report["rows"].append({"name": "prefill", "batch": 1, "context": 0, "tokens": args.prefill_tokens,
                                   "stepSeconds": s, "tokensPerSecond": args.prefill_tokens / s})
            print(f"hf peer: prefill {args.prefill_tokens} tokens: {s * 1e3:.1f} ms, "
                  f"{args.prefill_tokens / s:.0f} tok/s", flush=True)
        except Exception as e:
            report["errors"].append(f"prefill: {type(e).__name__}: {e}"[:500])
            print("hf peer:", report["errors"][-1], flush=True)
    save()
    # Last: the reference prompt in f32 (the model converted in place, ~63 GB), for the end-to-end comparison
    # with LatentServe's logits of the same weights (f32 activations there too).
    try:
        model.float()
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([REFERENCE_PROMPT], device=device)).logits[0, -1]
        path = os.path.join(os.path.dirname(os.path.abspath(args.json)), "hf-logits.f32")
        logits.float().cpu().numpy().astype("<f4").tofile(path)
        report["referenceLogits"] = path
        print(f"hf peer: reference logits (f32) of a {len(REFERENCE_PROMPT)}-token prompt: {path}", flush=True)
    except Exception as e:
        report["errors"].append(f"reference logits: {type(e).__name__}: {e}"[:500])
        print("hf peer:", report["errors"][-1], flush=True)
    save()


if __name__ == "__main__":
    main()

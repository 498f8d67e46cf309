#!/usr/bin/python3
"""Trains LatentServe's built-in demo model: a small DeepSeek-V2 (MLA + MoE + YaRN) on the Python standard
library sources, with its own byte-level BPE vocabulary and the DeepSeek-Coder FIM tokens.

    nice -n 10 /usr/bin/python3 tools/train-demo-model/train.py --out /tmp/demo-model

Reproducible: the same seed, steps and thread count give the same checkpoint. See README.md beside this file.
"""
import argparse
import json
import os
import pickle
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import data  # noqa: E402
import export  # noqa: E402
from model import DeepseekV2ForCausalLM  # noqa: E402

CONFIG = {
    "vocab_size": 4096,
    "hidden_size": 256,
    "intermediate_size": 768,
    "moe_intermediate_size": 192,
    "num_hidden_layers": 5,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "n_routed_experts": 8,
    "n_shared_experts": 1,
    "num_experts_per_tok": 2,
    "n_group": 1,
    "topk_group": 1,
    "topk_method": "greedy",
    "routed_scaling_factor": 1.0,
    "norm_topk_prob": False,
    "scoring_func": "softmax",
    "first_k_dense_replace": 1,
    "moe_layer_freq": 1,
    "q_lora_rank": None,
    "kv_lora_rank": 64,
    "qk_nope_head_dim": 32,
    "qk_rope_head_dim": 16,
    "v_head_dim": 32,
    "rope_theta": 10000,
    "rope_scaling": {"type": "yarn", "factor": 4, "original_max_position_embeddings": 512,
                     "beta_fast": 32, "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707},
    "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-6,
}


def log(msg, f=[None]):
    line = time.strftime("%H:%M:%S ") + msg
    print(line, flush=True)


def loss_of(model, batch):
    inputs = np.where(batch[:, :-1] == data.IGNORE, 0, batch[:, :-1])  # padding after EOS: any id, no loss
    logits = model(torch.from_numpy(inputs))
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(batch[:, 1:]).reshape(-1),
                           ignore_index=data.IGNORE)


@torch.no_grad()
def evaluate(model, windows, bs=8):
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(windows), bs):
        b = windows[i:i + bs]
        n = int((b[:, 1:] != data.IGNORE).sum())
        total += float(loss_of(model, b)) * n
        count += n
    model.train()
    return total / count


def lr_at(step, args):
    """Warmup, constant, then a linear decay to 10% over the last quarter (warmup-stable-decay). Until the decay
    starts the rate does not depend on --steps, so a run resumed from work/state.pt with fewer steps equals a
    fresh run with those steps."""
    decay = max(1, args.steps // 4)
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    if step < args.steps - decay:
        return args.lr
    return args.lr * (1 - 0.9 * (step - (args.steps - decay)) / decay)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--corpus", default="/usr/lib/python3.11")
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-windows", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    work = os.path.join(args.out, "work")
    os.makedirs(work, exist_ok=True)
    t0 = time.time()

    docs = data.load_corpus(args.corpus)
    train_docs = [t for p, t in docs if not data.is_validation(p)]
    val_docs = [t for p, t in docs if data.is_validation(p)]
    log(f"corpus {args.corpus}: {len(docs)} files, {sum(len(t) for _, t in docs)} chars; "
        f"{len(train_docs)} train / {len(val_docs)} validation files")

    tok_file = os.path.join(work, "bpe.json")
    if os.path.exists(tok_file):
        with open(tok_file) as f:
            saved = json.load(f)
        tok = bpe.Tokenizer(saved["tokens"], saved["merges"])
    else:
        tokens, merges = bpe.train(train_docs, CONFIG["vocab_size"], log=log)
        with open(tok_file, "w") as f:
            json.dump({"tokens": tokens, "merges": merges}, f)
        tok = bpe.Tokenizer(tokens, merges)
    assert len(tok.tokens) == CONFIG["vocab_size"], len(tok.tokens)
    log(f"vocabulary: {len(tok.tokens)} tokens ({len(tok.merges)} merges) after {time.time() - t0:.0f}s")

    pairs = [p for path, t in docs if not data.is_validation(path) for p in data.chat_pairs(t)]
    rng = np.random.default_rng(args.seed)
    ids_file = os.path.join(work, "train_ids.npz")
    ids = None
    if os.path.exists(ids_file):
        with np.load(ids_file) as z:
            ids = [z[f"d{i}"] for i in range(len(train_docs))]
    ex = data.Examples(tok, train_docs, pairs, args.seq, rng, ids=ids)
    if ids is None:
        np.savez(ids_file, **{f"d{i}": a for i, a in enumerate(ex.ids)})
    val = data.validation_windows(tok, val_docs, args.seq, args.val_windows)
    ntok = ex.num_tokens()
    log(f"train tokens {ntok} ({sum(len(t) for t in train_docs) / ntok:.2f} chars/token), {len(pairs)} chat pairs, "
        f"{len(val)} validation windows, after {time.time() - t0:.0f}s")

    model = DeepseekV2ForCausalLM(CONFIG)
    model.init_weights(torch.Generator().manual_seed(args.seed))
    nparams = sum(p.numel() for p in model.parameters())
    log(f"model: {nparams} parameters ({nparams * 2 / 1e6:.1f} MB in bf16)")
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and "embed" not in n]
    other = [p for n, p in model.named_parameters() if not (p.dim() == 2 and "embed" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    state_file = os.path.join(work, "state.pt")
    step, history = 0, []
    if os.path.exists(state_file):
        st = torch.load(state_file)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        rng.bit_generator.state = pickle.loads(st["rng"])
        torch.set_rng_state(st["torch_rng"])
        step, history = st["step"], st["history"]
        log(f"resumed at step {step}")

    model.train()
    seen = step * args.batch * args.seq
    train_time = sum(h.get("secs", 0) for h in history)
    while step < args.steps:
        ts = time.time()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args)
        batch = ex.batch(args.batch)
        lm = loss_of(model, batch)
        loss = lm + 0.001 * model.aux_loss()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        seen += int((batch[:, 1:] != data.IGNORE).sum())
        secs = time.time() - ts
        train_time += secs
        rec = {"step": step, "loss": round(float(lm), 4), "secs": round(secs, 3)}
        if step % 10 == 0:
            log(f"step {step}/{args.steps} loss {float(lm):.4f} lr {lr_at(step - 1, args):.2e} "
                f"{args.batch * args.seq / secs:.0f} tok/s, {seen} tokens, {train_time / 60:.1f} min")
        if step % 100 == 0 or step == args.steps:
            rec["val_loss"] = round(evaluate(model, val), 4)
            log(f"step {step} validation loss {rec['val_loss']:.4f}")
        history.append(rec)
        if step % 50 == 0 or step == args.steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "rng": pickle.dumps(rng.bit_generator.state),
                        "torch_rng": torch.get_rng_state(), "step": step, "history": history}, state_file + ".tmp")
            os.replace(state_file + ".tmp", state_file)

    val_f32 = evaluate(model, val)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).float())
    val_bf16 = evaluate(model, val)
    log(f"validation loss {val_f32:.4f} (f32 weights), {val_bf16:.4f} (bf16 weights)")
    samples = {}
    for name, text in [("def fibonacci", bpe.BOS + "def fibonacci(n):\n"),
                       ("class Stack", bpe.BOS + "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n"),
                       ("fim add", export.render_fim("def add(a, b):\n    ", "\n\n\nprint(add(1, 2))\n")),
                       ("chat reverse", export.render_chat("Write a Python function that reverses a string.")),
                       ("import", bpe.BOS + "import os\n\n\ndef read_lines(path):\n")]:
        samples[name] = {"prompt": text, "greedy": export.greedy(model, tok, text)}
        log(f"sample {name!r}: {samples[name]['greedy']!r}")
    meta = {"seed": args.seed, "steps": args.steps, "batch": args.batch, "seq": args.seq, "lr": args.lr,
            "threads": args.threads, "parameters": nparams, "train_tokens_seen": seen,
            "corpus": "Python 3.11 standard library sources (" + args.corpus + ", Debian libpython3.11-stdlib/-minimal; PSF License)",
            "corpus_files": len(docs), "corpus_train_tokens": ntok, "chat_pairs": len(pairs),
            "validation_windows": int(len(val)), "validation_loss_f32": round(val_f32, 4),
            "validation_loss_bf16": round(val_bf16, 4), "train_minutes": round(train_time / 60, 1),
            "wall_minutes": round((time.time() - t0) / 60, 1), "samples": samples,
            "loss_history": [h for h in history if "val_loss" in h or h["step"] % 25 == 0]}
    export.write_checkpoint(args.out, model, CONFIG, tok, meta)
    export.write_json(os.path.join(args.out, "reference.json"), export.reference(model, tok))
    log(f"wrote {args.out} in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()

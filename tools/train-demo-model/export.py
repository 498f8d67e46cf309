"""Writes the HuggingFace-layout checkpoint: config.json, model.safetensors (BF16), tokenizer.json,
tokenizer_config.json, generation_config.json, and reference.json (prompts, their ids, last-position logits)."""
import json
import os

import torch

import bpe

CHAT_TEMPLATE = ("{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
                 "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\\n\\n' }}"
                 "{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}"
                 "{% elif message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}{% endif %}{% endfor %}"
                 "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}")


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def write_safetensors(path, tensors):
    """tensors: {name: tensor}; written as BF16 in name order (8-byte length, JSON header padded to 8, data)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.bfloat16).contiguous()
        data = t.view(torch.int16).numpy().astype("<i2").tobytes()
        header[name] = {"dtype": "BF16", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def config_json(cfg, tok):
    c = {"architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2"}
    c.update(cfg)
    c.update({"bos_token_id": tok.bos, "eos_token_id": tok.eos, "tie_word_embeddings": False,
              "torch_dtype": "bfloat16", "hidden_act": "silu", "initializer_range": 0.02, "attention_bias": False,
              "attention_dropout": 0.0, "use_cache": True, "aux_loss_alpha": 0.001, "seq_aux": True,
              "ep_size": 1, "pretraining_tp": 1})
    return c


def write_checkpoint(out, model, cfg, tok, extra_meta):
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "config.json"), config_json(cfg, tok))
    write_safetensors(os.path.join(out, "model.safetensors"), dict(model.state_dict()))
    write_json(os.path.join(out, "tokenizer.json"), tok.to_json())
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "add_bos_token": True, "add_eos_token": False, "bos_token": bpe.BOS, "eos_token": bpe.EOS,
        "pad_token": None, "model_max_length": cfg["max_position_embeddings"], "legacy": True,
        "tokenizer_class": "LlamaTokenizerFast", "clean_up_tokenization_spaces": False,
        "chat_template": CHAT_TEMPLATE})
    write_json(os.path.join(out, "generation_config.json"), {
        "bos_token_id": tok.bos, "eos_token_id": tok.eos, "do_sample": True, "temperature": 0.3, "top_p": 0.95})
    write_json(os.path.join(out, "training.json"), extra_meta)


def render_chat(user):
    return bpe.BOS + "User: " + user + "\n\nAssistant:"


def render_fim(prefix, suffix):
    return bpe.BOS + bpe.FIM_BEGIN + prefix + bpe.FIM_HOLE + suffix + bpe.FIM_END


REFERENCE_PROMPTS = [
    ("plain", bpe.BOS + "import os\n\n\ndef read_lines(path):\n"),
    ("plain", bpe.BOS + "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n"),
    ("fim", render_fim("def add(a, b):\n    ", "\n\n\nprint(add(1, 2))\n")),
    ("chat", render_chat("Write a Python function that reverses a string.")),
    ("plain", bpe.BOS + "# Grüße, 世界! 12345 \u2192 \u00bd\r\nx = {'a': 1.5e-3}\t# done\n"),
]


@torch.no_grad()
def reference(model, tok):
    model.eval()
    out = []
    for kind, text in REFERENCE_PROMPTS:
        ids = tok.encode_with_specials(text, add_bos=False)
        logits = model(torch.tensor([ids]))[0, -1]
        out.append({"kind": kind, "text": text, "ids": ids,
                    "last_logits": [float("%.7g" % v) for v in logits.tolist()]})
    return {"note": "logits of the BF16 weights computed in f32 by tools/train-demo-model (PyTorch)", "prompts": out}


@torch.no_grad()
def greedy(model, tok, text, max_new=64):
    model.eval()
    ids = tok.encode_with_specials(text, add_bos=False)
    new = []
    for _ in range(max_new):
        nxt = int(model(torch.tensor([ids + new]))[0, -1].argmax())
        if nxt == tok.eos:
            break
        new.append(nxt)
    return tok.decode(new)

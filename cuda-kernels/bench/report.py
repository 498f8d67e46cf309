"""Merges the LatentServe GPU suite's report (DeviceBench --json) with the HuggingFace peer's (hf_peer.py --json)
into one markdown table: every LatentServe row with its fraction of the bound, and, where the peer measured
the same shape, the peer's figure, its fraction of the same bound and the ratio LatentServe / peer.

    python3 report.py HF_PEER.json BENCH.json [MORE_BENCH.json ...] > table.md   (rows of every BENCH, in order)
"""
import array, json, os, re, sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"rows": [], "errors": [f"{path}: {e}"]}


def read_f32(path):
    values = array.array("f")
    with open(path, "rb") as f:
        values.frombytes(f.read())
    if sys.byteorder != "little":
        values.byteswap()
    return values


def compare_logits(folder):
    """LatentServe's and transformers' last-token logits of the same prompt and weights, both in f32."""
    ls_path, hf_path = os.path.join(folder, "ls-logits.f32"), os.path.join(folder, "hf-logits.f32")
    if not (os.path.exists(ls_path) and os.path.exists(hf_path)):
        print("\nend-to-end logits: not compared (a file is missing)")
        return
    ls, hf = read_f32(ls_path), read_f32(hf_path)
    if len(ls) != len(hf):
        print(f"\nend-to-end logits: sizes differ ({len(ls)} vs {len(hf)})")
        return
    diff = max(abs(a - b) for a, b in zip(ls, hf))
    scale = max(abs(b) for b in hf)
    top = lambda v: sorted(range(len(v)), key=lambda i: -v[i])[:5]
    print(f"\nend-to-end logits vs transformers (f32, same weights, 16-token prompt): max |diff| {diff:.3e} "
          f"(max |logit| {scale:.3f}); argmax {'equal' if top(ls)[0] == top(hf)[0] else 'DIFFERENT'}; "
          f"top-5 LatentServe {top(ls)} vs transformers {top(hf)}")


def main():
    peer = load(sys.argv[1])
    ours = {"gpu": None, "rows": [], "errors": []}
    for path in sys.argv[2:]:
        part = load(path)
        ours["gpu"] = ours["gpu"] or part.get("gpu")
        ours["rows"] += part.get("rows", [])
        ours["errors"] += part.get("errors", [])
    peer_by_shape = {}
    for r in peer.get("rows", []):
        key = ("prefill", r.get("tokens")) if r["name"] == "prefill" else ("decode", r["batch"], r["context"])
        peer_by_shape[key] = r["tokensPerSecond"]
    print(f"GPU: {ours.get('gpu', '?')}; HF peer: transformers {peer.get('transformers', '?')}, "
          f"same weights: {peer.get('sameWeights')}, attention {peer.get('attention', '?')}")
    print()
    print("| benchmark | shape | LatentServe | bound | fraction | HF peer | HF fraction | LS / HF | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in ours.get("rows", []):
        key = None
        m = re.match(r"B (\d+), context (\d+)", r["shape"])
        if r["name"].startswith("decode step") and m:
            key = ("decode", int(m.group(1)), int(m.group(2)))
        m = re.match(r"1 x (\d+) tokens", r["shape"])
        if r["name"].startswith("prefill") and m:
            key = ("prefill", int(m.group(1)))
        hf = peer_by_shape.get(key) if key else None
        bound = r.get("bound")
        fraction = r.get("fraction")
        cells = [r["name"], r["shape"], f"{r['value']:.4g} {r['unit']}",
                 f"{bound:.4g}" if bound else "-", f"{fraction:.3f}" if fraction else "-",
                 f"{hf:.4g}" if hf else "-", f"{hf / bound:.3f}" if hf and bound else "-",
                 f"{r['value'] / hf:.2f}" if hf else "-", r.get("note", "")]
        print("| " + " | ".join(cells) + " |")
    compare_logits(os.path.dirname(os.path.abspath(sys.argv[1])))
    for e in ours.get("errors", []) + peer.get("errors", []):
        print(f"\nnote: {e}")


if __name__ == "__main__":
    main()

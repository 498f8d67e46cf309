"""The corpus (Python standard library sources), its train/validation split, and the training examples:
plain left-to-right windows, fill-in-the-middle (PSM) windows and short chat turns made from docstrings."""
import ast
import os
import textwrap
import zlib

import numpy as np

IGNORE = -100
CHAT_TEMPLATES = [
    "Write a Python function {name}{sig}. {summary}",
    "{summary} Write it in Python as {name}{sig}.",
    "Implement {name}{sig} in Python: {summary}",
]


def load_corpus(root):
    """[(relative path, text)] of every .py file under root (sorted; dist-/site-packages excluded)."""
    docs = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in ("dist-packages", "site-packages", "__pycache__"))
        for f in sorted(files):
            if f.endswith(".py"):
                p = os.path.join(d, f)
                try:
                    with open(p, encoding="utf-8") as fh:
                        text = fh.read()
                except (UnicodeDecodeError, OSError):
                    continue
                if text.strip():
                    docs.append((os.path.relpath(p, root), text))
    return docs


def is_validation(path):
    """A fixed 1-in-25 of the files, by a hash of the path."""
    return zlib.crc32(path.encode()) % 25 == 0


def chat_pairs(text):
    """(question, answer) pairs from the functions with docstrings of one file."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    pairs = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name.startswith("_"):
            continue
        doc = ast.get_docstring(node)
        src = ast.get_source_segment(text, node)
        if not doc or not src or len(src) > 1200:
            continue
        summary = " ".join(doc.strip().split("\n\n")[0].split())
        if not 12 <= len(summary) <= 200:
            continue
        args = [a.arg for a in node.args.args]
        sig = "(" + ", ".join(args) + ")"
        pairs.append((node.name, sig, summary, textwrap.dedent(" " * node.col_offset + src)))
    return pairs


class Examples:
    """Draws training sequences of seq_len + 1 ids (inputs are [:-1], labels [1:], IGNORE after the end)."""

    def __init__(self, tok, docs, pairs, seq_len, rng, fim_rate=0.3, chat_rate=0.1, ids=None):
        self.tok, self.docs, self.pairs, self.n, self.rng = tok, docs, pairs, seq_len + 1, rng
        self.fim_rate, self.chat_rate = fim_rate, chat_rate
        self.ids = ids if ids is not None else [np.array(tok.encode(t), dtype=np.int32) for t in docs]
        nl = tok.id_of[tok_char("\n")]
        self.line_starts = [np.concatenate(([0], np.nonzero(a == nl)[0] + 1)) for a in self.ids]
        w = np.array([len(a) for a in self.ids], dtype=np.float64)
        self.weights = w / w.sum()
        cw = np.array([len(t) for t in docs], dtype=np.float64)
        self.char_weights = cw / cw.sum()

    def num_tokens(self):
        return int(sum(len(a) for a in self.ids))

    def _pad(self, seq):
        seq = list(seq)[: self.n]
        return seq + [IGNORE] * (self.n - len(seq))

    def plain(self):
        d = self.rng.choice(len(self.ids), p=self.weights)
        a, starts = self.ids[d], self.line_starts[d]
        start = int(self.rng.choice(starts[starts < max(1, len(a) - 16)]))
        body = a[start:start + self.n - 1].tolist()
        seq = [self.tok.bos] + body
        if start + len(body) >= len(a):
            seq.append(self.tok.eos)
        return self._pad(seq)

    def fim(self):
        text = self.docs[self.rng.choice(len(self.docs), p=self.char_weights)]
        starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n" and i + 1 < len(text)]
        s = starts[int(self.rng.integers(len(starts)))]
        window = text[s:s + int(self.rng.integers(200, 1600))]
        lo, hi = self._middle(window)
        p, m, x = (self.tok.encode(window[:lo]), self.tok.encode(window[lo:hi]), self.tok.encode(window[hi:]))
        room = self.n - len(m) - 5
        if room < 0:
            return self.plain()
        while len(p) + len(x) > room:  # trim the far ends of the context, keep the middle whole
            if len(p) >= len(x):
                p = p[1:]
            else:
                x = x[:-1]
        t = self.tok
        return self._pad([t.bos, t.fim_begin] + p + [t.fim_hole] + x + [t.fim_end] + m + [t.eos])

    def _middle(self, w):
        """A random character span, some whole lines, or the rest of a line."""
        r = self.rng.random()
        if r < 0.4 or "\n" not in w:
            i, j = sorted(int(v) for v in self.rng.integers(0, len(w) + 1, size=2))
            return i, j
        lines = np.cumsum([0] + [len(l) for l in w.splitlines(keepends=True)])
        k = int(self.rng.integers(0, len(lines) - 1))
        if r < 0.75:
            return int(lines[k]), int(lines[min(len(lines) - 1, k + 1 + int(self.rng.integers(0, 3)))])
        end = int(lines[k + 1]) - (1 if w[int(lines[k + 1]) - 1] == "\n" else 0)
        return int(self.rng.integers(int(lines[k]), end + 1)), end

    def chat(self):
        name, sig, summary, code = self.pairs[self.rng.integers(len(self.pairs))]
        q = CHAT_TEMPLATES[int(self.rng.integers(len(CHAT_TEMPLATES)))].format(name=name, sig=sig, summary=summary)
        text = "User: " + q + "\n\nAssistant: ```python\n" + code.rstrip() + "\n```"
        return self._pad([self.tok.bos] + self.tok.encode(text) + [self.tok.eos])

    def draw(self):
        r = self.rng.random()
        if r < self.chat_rate and self.pairs:
            return self.chat()
        if r < self.chat_rate + self.fim_rate:
            return self.fim()
        return self.plain()

    def batch(self, size):
        return np.array([self.draw() for _ in range(size)], dtype=np.int64)


def tok_char(s):
    import pretok
    return pretok.byte_level(s)


def validation_windows(tok, docs, seq_len, count):
    """Fixed plain windows over the validation files: [BOS] + consecutive tokens, no overlap."""
    out = []
    for text in docs:
        a = tok.encode(text)
        for s in range(0, len(a), seq_len):
            chunk = [tok.bos] + a[s:s + seq_len]
            out.append(chunk + [IGNORE] * (seq_len + 1 - len(chunk)))
    step = max(1, len(out) // count)
    return np.array(out[::step][:count], dtype=np.int64)

"""Byte-level BPE: training (merge counts over pre-token pieces), encoding (as LatentServe's BpeModel does:
lowest merge rank first, leftmost among equal ranks) and the HuggingFace tokenizer.json."""
import collections
import heapq

import pretok

BOS = "<\uff5cbegin\u2581of\u2581sentence\uff5c>"
EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"
FIM_HOLE = "<\uff5cfim\u2581hole\uff5c>"
FIM_BEGIN = "<\uff5cfim\u2581begin\uff5c>"
FIM_END = "<\uff5cfim\u2581end\uff5c>"
SPECIALS = [BOS, EOS, FIM_HOLE, FIM_BEGIN, FIM_END]


def train(texts, vocab_size, log=print):
    """Learns merges until vocab_size - len(SPECIALS) tokens; returns (vocab list of token strings, merges)."""
    counts = collections.Counter()
    for t in texts:
        counts.update(pretok.pre_tokenize(t))
    log(f"bpe: {len(counts)} distinct pieces")
    tokens = [pretok.BYTE_TO_CHAR[b] for b in range(256)]
    index = {t: i for i, t in enumerate(tokens)}
    words = [[index[c] for c in pretok.byte_level(p)] for p in counts]
    freq = list(counts.values())
    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for w, (sym, f) in enumerate(zip(words, freq)):
        for a, b in zip(sym, sym[1:]):
            pair_count[(a, b)] += f
            where[(a, b)].add(w)
    heap = [(-c, tokens[a], tokens[b], a, b) for (a, b), c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    target = vocab_size - len(SPECIALS)
    while len(tokens) < target and heap:
        negc, _, _, a, b = heapq.heappop(heap)
        if pair_count.get((a, b), 0) != -negc or negc == 0:
            continue  # stale entry: the current count was pushed when it changed
        merged = tokens[a] + tokens[b]
        if merged in index:
            new = index[merged]
        else:
            new = len(tokens)
            tokens.append(merged)
            index[merged] = new
        merges.append((tokens[a], tokens[b]))
        changed = set()
        for w in list(where.pop((a, b), ())):
            sym = words[w]
            if not any(x == a and y == b for x, y in zip(sym, sym[1:])):
                continue
            f = freq[w]
            for p in zip(sym, sym[1:]):
                pair_count[p] -= f
                changed.add(p)
            out, i = [], 0
            while i < len(sym):
                if i + 1 < len(sym) and sym[i] == a and sym[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(sym[i])
                    i += 1
            words[w] = out
            for p in zip(out, out[1:]):
                pair_count[p] += f
                where[p].add(w)
                changed.add(p)
        pair_count.pop((a, b), None)
        for p in changed:
            c = pair_count.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, tokens[p[0]], tokens[p[1]], p[0], p[1]))
            else:
                pair_count.pop(p, None)
    return tokens, merges


class Tokenizer:
    def __init__(self, tokens, merges):
        self.tokens = list(tokens) + SPECIALS
        self.merges = [tuple(m) for m in merges]
        self.id_of = {t: i for i, t in enumerate(self.tokens)}
        self.rank = {}
        for r, (a, b) in enumerate(self.merges):
            self.rank.setdefault((self.id_of[a], self.id_of[b]), r)
        self.merged = [self.id_of[a + b] for a, b in self.merges]
        self.bos, self.eos, self.fim_hole, self.fim_begin, self.fim_end = (self.id_of[s] for s in SPECIALS)
        self.byte_ids = [self.id_of[pretok.BYTE_TO_CHAR[b]] for b in range(256)]
        self._cache = {}

    def _piece(self, piece):
        ids = self._cache.get(piece)
        if ids is not None:
            return ids
        sym = [self.byte_ids[b] for b in piece.encode("utf-8")]
        while len(sym) > 1:
            best, pos = None, -1
            for i in range(len(sym) - 1):
                r = self.rank.get((sym[i], sym[i + 1]))
                if r is not None and (best is None or r < best):
                    best, pos = r, i
            if best is None:
                break
            sym[pos:pos + 2] = [self.merged[best]]
        if len(self._cache) < 4_000_000:
            self._cache[piece] = sym
        return sym

    def encode(self, text):
        """Ids of plain text (no added tokens are looked for, no BOS)."""
        out = []
        for p in pretok.pre_tokenize(text):
            out.extend(self._piece(p))
        return out

    def encode_with_specials(self, text, add_bos=True):
        """As the server does: added tokens cut out of the raw text first, BOS in front."""
        out = [self.bos] if add_bos else []
        i = 0
        while i < len(text):
            nxt = [(text.find(s, i), s) for s in SPECIALS]
            nxt = [(j, s) for j, s in nxt if j >= 0]
            if not nxt:
                out.extend(self.encode(text[i:]))
                break
            j, s = min(nxt)
            out.extend(self.encode(text[i:j]))
            out.append(self.id_of[s])
            i = j + len(s)
        return out

    def decode(self, ids):
        data = bytearray()
        for t in ids:
            tok = self.tokens[t]
            if tok in SPECIALS:
                data.extend(tok.encode("utf-8"))
            else:
                data.extend(pretok.CHAR_TO_BYTE[c] for c in tok)
        return data.decode("utf-8", errors="replace")

    def to_json(self):
        n = len(self.tokens) - len(SPECIALS)
        added = [{"id": n + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True} for i, s in enumerate(SPECIALS)]
        splits = [{"type": "Split", "pattern": {"Regex": r}, "behavior": "Isolated", "invert": False}
                  for r in pretok.HF_SPLITS]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": splits + [
                {"type": "Digits", "individual_digits": True},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": BOS, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {BOS: {"id": BOS, "ids": [self.bos], "tokens": [BOS]}}},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": False,
                      "vocab": {t: i for i, t in enumerate(self.tokens[:n])},
                      "merges": [a + " " + b for a, b in self.merges]},
        }

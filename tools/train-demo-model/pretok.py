"""The pre-tokenizer of the demo vocabulary, exactly as LatentServe's Java tokenizer runs it.

tokenizer.json says: Sequence of Split(Isolated) on `[\\r\\n]`, `\\s?\\p{L}+`, `\\s?\\p{P}+`, the CJK class, then
Digits(individual_digits), then ByteLevel(use_regex=false) -- DeepSeek-Coder's list. Python's `re` has no
`\\p{..}`, so the letter and punctuation classes are built here from unicodedata, and `\\s` is spelled as the
Unicode White_Space set (what Java's UNICODE_CHARACTER_CLASS `\\s` means; Python's own `\\s` adds U+001C-001F).
"""
import re
import sys
import unicodedata

# The regexes as written into tokenizer.json (HuggingFace / Oniguruma syntax).
HF_SPLITS = [r"[\r\n]", r"\s?\p{L}+", r"\s?\p{P}+", "[一-龥ࠀ-一가-퟿]+"]

WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def _char_class(predicate):
    """A regex character class body with every code point that satisfies predicate, as ranges."""
    parts, start, prev = [], None, None
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if predicate(chr(cp)):
            if start is None:
                start = cp
            elif cp != prev + 1:
                parts.append((start, prev))
                start = cp
            prev = cp
    if start is not None:
        parts.append((start, prev))
    return "".join("\\U%08x" % a if a == b else "\\U%08x-\\U%08x" % (a, b) for a, b in parts)


_LETTERS = _char_class(lambda c: unicodedata.category(c).startswith("L"))
_PUNCT = _char_class(lambda c: unicodedata.category(c).startswith("P"))
_STEPS = [
    re.compile(r"[\r\n]"),
    re.compile("[%s]?[%s]+" % (WHITE_SPACE, _LETTERS)),
    re.compile("[%s]?[%s]+" % (WHITE_SPACE, _PUNCT)),
    re.compile("[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"),
    re.compile("[%s]" % _char_class(lambda c: unicodedata.category(c) in ("Nd", "Nl", "No"))),
]


def _isolated(pattern, piece, out):
    prev = 0
    for m in pattern.finditer(piece):
        if m.start() > prev:
            out.append(piece[prev:m.start()])
        out.append(m.group())
        prev = m.end()
    if prev < len(piece):
        out.append(piece[prev:])


def _split(text, first_step):
    pieces = [text]
    for pattern in _STEPS[first_step:]:
        nxt = []
        for p in pieces:
            _isolated(pattern, p, nxt)
        pieces = nxt
    return pieces


_LINE_CACHE = {}


def pre_tokenize(text):
    """The pieces (str) of text, before the byte-level mapping."""
    out = []
    for piece in _lines(text):
        cached = _LINE_CACHE.get(piece)
        if cached is None:
            cached = _split(piece, 1)
            if len(_LINE_CACHE) < 2_000_000:
                _LINE_CACHE[piece] = cached
        out.extend(cached)
    return out


def _lines(text):
    """Step 1 ([\\r\\n] isolated): newline characters alone, the text between them as pieces."""
    pieces = []
    _isolated(_STEPS[0], text, pieces)
    return pieces


def _bytes_to_unicode():
    """GPT-2's byte-level alphabet: printable bytes keep their code point, the other 68 go to U+0100 upward."""
    bs = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_TO_CHAR = _bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def byte_level(piece):
    return "".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))

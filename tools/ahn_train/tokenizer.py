"""The Qwen2 byte-level BPE tokenizer, read from a GGUF (no hub, no torch, no ``tokenizers``).

Written from models-data.md §3.3 / Appendix A (what llama.cpp's ``qwen2`` pre-tokenizer does):

1. NFC-normalise the text.
2. Split it with the Qwen2 pre-tokenizer regex (``PATTERN``; needs the ``regex`` module for
   ``\\p{L}``/``\\p{N}``).
3. Map each piece's UTF-8 bytes to the GPT-2 byte alphabet (``byte_alphabet``).
4. Merge pairs by rank (``tokenizer.ggml.merges``, lowest rank first) until no merge applies,
   then look the symbols up in ``tokenizer.ggml.tokens``.

Special and control tokens (``<|im_start|>`` ...) are never produced from text: training data is
plain text, as the engine's ingestion feeds it with special tokens defused.
"""

import unicodedata
from functools import lru_cache

import regex

from ahn_ref.gguf_io import GgufFile

PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
NORMAL = 1
"""``tokenizer.ggml.token_type`` of ordinary BPE tokens (others are special/control/user tokens)."""


def byte_alphabet():
    """GPT-2's reversible byte -> printable character map (256 entries)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


class QwenTokenizer:
    """Encode and decode text with a GGUF's ``gpt2``-model vocabulary and merges."""

    def __init__(self, tokens, types, merges):
        self.tokens = list(tokens)
        self.ids = {t: i for i, t in enumerate(self.tokens) if types[i] == NORMAL}
        self.ranks = {tuple(m.split(" ", 1)): r for r, m in enumerate(merges)}
        self.byte_map = byte_alphabet()
        self.byte_unmap = {c: b for b, c in self.byte_map.items()}
        self.split = regex.compile(PATTERN)
        self._bpe = lru_cache(maxsize=1 << 18)(self._bpe_uncached)

    @classmethod
    def from_gguf(cls, path):
        f = GgufFile(path)
        model = f.get("tokenizer.ggml.model")
        if model != "gpt2":
            raise ValueError(f"{path}: tokenizer.ggml.model is {model!r}, only byte-level BPE (gpt2) is read")
        return cls(
            f.require("tokenizer.ggml.tokens"),
            [int(t) for t in f.require("tokenizer.ggml.token_type")],
            f.require("tokenizer.ggml.merges"),
        )

    def _bpe_uncached(self, piece):
        symbols = [self.byte_map[b] for b in piece.encode("utf-8")]
        while len(symbols) > 1:
            best, best_rank = -1, None
            for i in range(len(symbols) - 1):
                r = self.ranks.get((symbols[i], symbols[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best < 0:
                break
            merged = symbols[best] + symbols[best + 1]
            # Merge every occurrence of the best pair, left to right (standard BPE).
            out, i = [], 0
            pair = (symbols[best], symbols[best + 1])
            while i < len(symbols):
                if i < len(symbols) - 1 and (symbols[i], symbols[i + 1]) == pair:
                    out.append(merged)
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            symbols = out
        return tuple(self.ids[s] for s in symbols)

    def encode(self, text):
        """Token ids of ``text`` (a list of int)."""
        text = unicodedata.normalize("NFC", text)
        out = []
        for piece in self.split.findall(text):
            out.extend(self._bpe(piece))
        return out

    def decode(self, ids):
        """Text of token ids (invalid UTF-8 replaced)."""
        data = bytearray()
        for i in ids:
            tok = self.tokens[int(i)]
            if all(c in self.byte_unmap for c in tok):
                data.extend(self.byte_unmap[c] for c in tok)
            else:
                data.extend(tok.encode("utf-8"))
        return data.decode("utf-8", errors="replace")

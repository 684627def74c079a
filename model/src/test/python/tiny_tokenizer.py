"""A small independent encoder for the tokenizer.json files the tiny-checkpoint generator writes
(HF `tokenizers` semantics for the two layouts it uses; the `tokenizers` library is not
installed here):

- SentencePiece-style BPE: special tokens split out first; each text chunk normalised
  (optional Prepend "▁", Replace " " -> "▁"); no pre-tokenizer, so the chunk is one BPE word;
  merges applied lowest rank first; characters outside the vocabulary become <0xXX> bytes.
- byte-level BPE (LLaMA-3): special tokens split out; LLaMA-3's regex splits each chunk; pieces
  mapped through GPT-2's byte alphabet; a piece found whole in the vocabulary is taken as is
  (ignore_merges), otherwise merges by rank.
The BOS of the template post-processor is prepended when asked.
"""
import json
import os
import re

try:
    import regex  # \p{L} support
except ImportError:  # pragma: no cover
    regex = None


def _bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


class Tokenizer:
    def __init__(self, folder):
        with open(os.path.join(folder, "tokenizer.json"), encoding="utf-8") as f:
            t = json.load(f)
        self.vocab = t["model"]["vocab"]
        self.ranks = {tuple(m.split(" ")): i for i, m in enumerate(t["model"]["merges"])}
        self.byte_level = t["pre_tokenizer"] is not None
        self.specials = {a["content"]: a["id"] for a in t["added_tokens"]}
        self.id_to_token = {i: s for s, i in self.vocab.items()}
        self.id_to_token.update({i: s for s, i in self.specials.items()})
        norm = t["normalizer"]
        steps = [] if norm is None else (norm["normalizers"] if norm["type"] == "Sequence" else [norm])
        self.prepend = any(s["type"] == "Prepend" for s in steps)
        post = t["post_processor"]
        templates = post["processors"] if post["type"] == "Sequence" else [post]
        self.bos = None
        for p in templates:
            if p["type"] == "TemplateProcessing":
                for item in p["single"]:
                    if "SpecialToken" in item:
                        self.bos = self.specials[item["SpecialToken"]["id"]]
        self.b2u = _bytes_to_unicode()

    def _bpe(self, symbols):
        while len(symbols) > 1:
            best = None
            for i in range(len(symbols) - 1):
                r = self.ranks.get((symbols[i], symbols[i + 1]))
                if r is not None and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                break
            i = best[1]
            symbols = symbols[:i] + [symbols[i] + symbols[i + 1]] + symbols[i + 2:]
        return symbols

    def _encode_chunk(self, text):
        ids = []
        if self.byte_level:
            pattern = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                       r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
            if regex is not None:
                pieces = regex.findall(pattern, text)
            else:  # the same pattern for ASCII text, where \p{L} = [A-Za-z] and \p{N} = [0-9]
                if not text.isascii():
                    raise ValueError("byte-level encoding of non-ASCII text needs the 'regex' module")
                ascii_pattern = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]{1,3}"
                                 r"| ?[^\sA-Za-z0-9]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
                pieces = re.findall(ascii_pattern, text)
            for piece in pieces:
                word = "".join(self.b2u[b] for b in piece.encode("utf-8"))
                if word in self.vocab:
                    ids.append(self.vocab[word])
                    continue
                ids.extend(self.vocab[s] for s in self._bpe(list(word)))
            return ids
        normalized = ("\u2581" if self.prepend else "") + text.replace(" ", "\u2581")
        for s in self._bpe(list(normalized)):
            if s in self.vocab:
                ids.append(self.vocab[s])
            else:
                ids.extend(self.vocab["<0x%02X>" % b] for b in s.encode("utf-8"))
        return ids

    def encode(self, text, add_bos=True):
        ids = [self.bos] if add_bos and self.bos is not None else []
        if self.specials:
            parts = re.split("(" + "|".join(re.escape(s) for s in sorted(self.specials, key=len, reverse=True)) + ")", text)
        else:
            parts = [text]
        for p in parts:
            if not p:
                continue
            if p in self.specials:
                ids.append(self.specials[p])
            else:
                ids.extend(self._encode_chunk(p))
        return ids

    def tokens(self, ids):
        return [self.id_to_token[i] for i in ids]

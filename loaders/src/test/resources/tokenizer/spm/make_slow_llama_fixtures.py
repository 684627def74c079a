#!/usr/bin/python3
"""Expected ids/decodes of transformers' slow LlamaTokenizer (4.36) with legacy true and false.

transformers is not installed here, so its LlamaTokenizer.tokenize/_tokenize/convert_tokens_to_string
and PreTrainedTokenizer's added-token split are transcribed below, on top of the real sentencepiece
library (legacy=false loads the model with add_dummy_prefix turned off, as transformers does).

    /usr/bin/python3 make_slow_llama_fixtures.py [path/to/llama2-spm/tokenizer.model]
Writes expected_slow.jsonl (the llama2-spm rows only when that model is given).
"""
import json
import sys

import sentencepiece as spm

SPIECE_UNDERLINE = "\u2581"


def varint(b, i):
    shift = result = 0
    while True:
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        if c < 0x80:
            return result, i
        shift += 7


def enc_varint(v):
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        if v:
            out.append(c | 0x80)
        else:
            out.append(c)
            return bytes(out)


def without_dummy_prefix(b):
    """Sets normalizer_spec.add_dummy_prefix = false (appends field 3 = 0 to ModelProto field 3)."""
    out = bytearray()
    i = 0
    while i < len(b):
        tag, j = varint(b, i)
        field, wt = tag >> 3, tag & 7
        if wt == 2:
            ln, k = varint(b, j)
            payload = b[k:k + ln]
            if field == 3:
                payload = payload + b"\x18\x00"
            out += enc_varint(tag) + enc_varint(len(payload)) + payload
            i = k + ln
        elif wt == 0:
            _, k = varint(b, j)
            out += b[i:k]
            i = k
        elif wt == 5:
            out += b[i:j + 4]
            i = j + 4
        elif wt == 1:
            out += b[i:j + 8]
            i = j + 8
        else:
            raise ValueError("wire type %d" % wt)
    return bytes(out)


class SlowLlama:
    def __init__(self, path, legacy, bos="<s>", eos="</s>", unk="<unk>", add_bos=True, add_eos=False):
        raw = open(path, "rb").read()
        self.sp = spm.SentencePieceProcessor(model_proto=raw if legacy else without_dummy_prefix(raw))
        self.legacy = legacy
        self.bos, self.eos, self.unk = bos, eos, unk
        self.add_bos, self.add_eos = add_bos, add_eos
        self.special = [bos, eos, unk]
        self.added = {t: self.sp.piece_to_id(t) for t in self.special}
        self.special_ids = set(self.added.values())
        self.unk_len = len(self.sp.encode(unk, out_type=str))

    def split(self, text):
        """Leftmost-longest split on the added (here: special) tokens."""
        out, start, i = [], 0, 0
        while i < len(text):
            best = None
            for t in self.added:
                if text.startswith(t, i) and (best is None or len(t) > len(best)):
                    best = t
            if best is None:
                i += 1
                continue
            out.append((text[start:i], False))
            out.append((best, True))
            i += len(best)
            start = i
        out.append((text[start:], False))
        return out

    def _tokenize(self, text):
        if self.legacy or not text.startswith((SPIECE_UNDERLINE, " ")):
            return self.sp.encode(text, out_type=str)
        tokens = self.sp.encode(self.unk + text, out_type=str)
        return tokens[self.unk_len:] if len(tokens) >= self.unk_len else tokens

    def _pre_tokenize(self, text):
        out = []
        for chunk, is_added in self.split(text):
            if not chunk:
                continue
            out.extend([chunk] if is_added else self._tokenize(chunk))
        return out

    def tokenize(self, text):
        if self.legacy or len(text) == 0:
            return self._pre_tokenize(text)
        tokens = self._pre_tokenize(SPIECE_UNDERLINE + text.replace(SPIECE_UNDERLINE, " "))
        if len(tokens) > 1 and tokens[0] == SPIECE_UNDERLINE and tokens[1] in self.special:
            tokens = tokens[1:]
        return tokens

    def encode(self, text, add_special_tokens):
        ids = [self.added.get(t, self.sp.piece_to_id(t)) for t in self.tokenize(text)]
        if add_special_tokens:
            ids = ([self.added[self.bos]] if self.add_bos else []) + ids + ([self.added[self.eos]] if self.add_eos else [])
        return ids

    def convert_tokens_to_string(self, tokens):
        if tokens[0].startswith(SPIECE_UNDERLINE):
            tokens[0] = tokens[0][1:]
        current, out, prev_special = [], "", False
        for i, token in enumerate(tokens):
            if token in self.special:
                if not prev_special and i != 0 and self.legacy:
                    out += " "
                out += self.sp.decode(current) + token
                prev_special = True
                current = []
            else:
                current.append(token)
                prev_special = False
        return out + self.sp.decode(current)

    def decode(self, ids, skip_special_tokens):
        tokens = [self.sp.id_to_piece(i) for i in ids if not (skip_special_tokens and i in self.special_ids)]
        return self.convert_tokens_to_string(tokens) if tokens else ""


TEXTS = [
    "Hello world", "</s>USER: hi", "Hello <s> there", " leading space", "<s>Hello", "a</s>", "",
    " ", "  two", "\u2581meta \u2581", "<unk>x", "emoji \U0001F600 </s> \u65e5\u672c",
    "A chat. USER: <image>\nWhat is it? ASSISTANT: A cat.</s>USER: Why? ASSISTANT:",
    "\nQuestion after an image", "tabs\tand\nnewlines", "x </s> y</s>z",
]


def rows_for(name, path):
    rows = []
    for legacy in (True, False):
        tok = SlowLlama(path, legacy)
        for text in TEXTS:
            for add in (True, False):
                ids = tok.encode(text, add)
                rows.append({"model": name, "legacy": legacy, "text": text, "add_special_tokens": add, "ids": ids,
                             "decoded": tok.decode(ids, False), "decoded_skip_special": tok.decode(ids, True)})
    return rows


def main():
    rows = rows_for("bpe_nfkc_bytefallback", "bpe_nfkc_bytefallback.model")
    if len(sys.argv) > 1:
        rows += rows_for("llama2-spm", sys.argv[1])
    with open("expected_slow.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Trains the small SentencePiece BPE models the Java tests use and records what the real
sentencepiece library (Debian python3-sentencepiece) does with them.

Run from this folder with /usr/bin/python3 (the interpreter that has sentencepiece):
    /usr/bin/python3 make_spm_fixtures.py
Writes bpe_nfkc_bytefallback.model, bpe_identity_unk.model, unigram.model and expected.jsonl.
"""
import json
import random

import sentencepiece as spm

CORPUS = "corpus.txt"

MODELS = {
    # default normaliser (nmt_nfkc: precompiled charsmap, extra whitespace removed), byte fallback
    "bpe_nfkc_bytefallback": dict(model_type="bpe", vocab_size=640, byte_fallback=True,
                                  character_coverage=1.0, user_defined_symbols=["<sep>"],
                                  control_symbols=["<ctl>"]),
    # identity normaliser, whitespace kept, unknown chars become <unk>, no dummy prefix,
    # user-defined symbols
    "bpe_identity_unk": dict(model_type="bpe", vocab_size=420, byte_fallback=False,
                             character_coverage=0.98, normalization_rule_name="identity",
                             remove_extra_whitespaces=False, add_dummy_prefix=False,
                             user_defined_symbols=["[X]", "<image>"], split_digits=True),
}

TEXTS = [
    "Hello world",
    "hello",
    "",
    " ",
    "   ",
    "The quick brown fox jumps over the lazy dog.",
    "  leading and trailing spaces  ",
    "internal    runs    of spaces",
    "tabs\tand\nnewlines\r\n",
    "It's 2024: 3.14159 and 1000000 tokens!",
    "Café naïve résumé über",
    "Cafe\u0301 (NFD accent)",
    "Ｆｕｌｌｗｉｄｔｈ ① ﬁ",
    "日本語と中文と한국어",
    "Emoji 😀👍🏽 and ZWJ 👨‍👩‍👧 flag 🇫🇷",
    "unseen chars: Ω ψ ж ש ع ह",
    "control\u0001chars\u007f",
    "<sep> user defined <sep>symbols",
    "[X] marks <image> the spot[X]",
    "<ctl> is a control symbol, <s> and </s> are text here",
    "\u2581 literal meta space \u2581\u2581",
    "A chat between a curious user and an artificial intelligence assistant. USER: <image>\nWhat is this? ASSISTANT:",
    "x² + y² = z²",
    "https://example.org/path?query=1&x=2#frag",
]


def main():
    rows = []
    for name, kw in MODELS.items():
        spm.SentencePieceTrainer.train(input=CORPUS, model_prefix=name, **kw)
        sp = spm.SentencePieceProcessor(model_file=name + ".model")
        for t in TEXTS:
            ids = sp.encode(t)
            rows.append({"model": name, "kind": "encode", "text": t, "ids": ids,
                         "pieces": [sp.id_to_piece(i) for i in ids], "decoded": sp.decode(ids)})
        rng = random.Random(1234)
        for k in range(40):
            ids = [rng.randrange(sp.get_piece_size()) for _ in range(rng.randrange(1, 12))]
            rows.append({"model": name, "kind": "decode", "ids": ids, "decoded": sp.decode(ids)})
        info = {"model": name, "kind": "info", "size": sp.get_piece_size(), "unk": sp.unk_id(),
                "bos": sp.bos_id(), "eos": sp.eos_id(), "pad": sp.pad_id(),
                "pieces": [sp.id_to_piece(i) for i in range(sp.get_piece_size())],
                "scores": [sp.get_score(i) for i in range(sp.get_piece_size())],
                "control": [i for i in range(sp.get_piece_size()) if sp.is_control(i)],
                "byte": [i for i in range(sp.get_piece_size()) if sp.is_byte(i)]}
        rows.append(info)
    spm.SentencePieceTrainer.train(input=CORPUS, model_prefix="unigram", model_type="unigram", vocab_size=200,
                                   normalization_rule_name="identity")
    with open("expected.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

// Builds small tokenizer.json files that exercise the pipeline pieces the real checkpoints use
// (and a few they do not), and records what the Rust `tokenizers` library does with them:
// ids, per-word id groups (pre-tokenization boundaries), decode with and without special tokens.
//
//   npm install tokenizers@0.23.2      (the official Node binding of the Rust library)
//   node make_hf_fixtures.js           (writes *.tokenizer.json and expected.jsonl here)
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

const TEXTS = [
  'Hello world', 'hello', '', ' ', '   ', '  leading', 'trailing  ', 'a\u00a0b\u2003c\u3000d\u200be',
  "I'm you're they'LL DON'T", '123456789 12.5 \u0661\u0662\u0663', 'x--y-z-', 'hello hellohello hello!',
  '[SP] a [SP]b  [SP]', 'a<m> b   <m>', 'x yx y x y', '\u00dcn\u00efc\u00f6d\u00e9 NFD: e\u0301',
  '\ufb01 \u2460 \uff26', 'emoji \ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67 \ud83c\uddeb\ud83c\uddf7',
  'tabs\tand\nnew\r\nlines\n\n', '<s>inner</s>', 'Mixed-Case WORDS.And,punct!!?', '<|x|>\u00e9!\u00e9! \u00e9!',
  'ab ab abab', '\u0000ctl\u007f', '\u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8', "don't stop", 'a1b22c333d4444',
  'the theater the', '\u2581meta \u2581\u2581space', 'ends with space ',
];

function charsOf(texts, extra) {
  const s = new Set(extra || []);
  for (const t of texts) for (const c of t) s.add(c);
  return [...s];
}

function bytesTokens() {
  const out = [];
  for (let b = 0; b < 256; b++) out.push('<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>');
  return out;
}

function vocabFrom(list) {
  const v = {};
  for (const t of list) if (!(t in v)) v[t] = Object.keys(v).length;
  return v;
}

function withMerges(base, merges) {
  const list = [...base];
  for (const [a, b] of merges) { list.push(a, b, a + b); }
  return vocabFrom(list);
}

const added = (id, content, special, o = {}) => ({ id, content, single_word: !!o.single_word, lstrip: !!o.lstrip,
  rstrip: !!o.rstrip, normalized: o.normalized === undefined ? !special : o.normalized, special });

const META_MERGES = [['\u2581', 't'], ['h', 'e'], ['\u2581t', 'he'], ['\u2581', 'a'], ['i', 'n'], ['e', 'r'],
  ['\u2581', 'h'], ['\u2581h', 'e'], ['l', 'l'], ['\u2581he', 'll'], ['\u2581hell', 'o'], ['o', 'r'], ['\u2581', 'w'],
  ['\u2581w', 'or'], ['l', 'd'], ['\u2581wor', 'ld'], ['\u2581', '\u2581'], ['a', 'b']];

function metaspaceFirst() {
  const chars = charsOf(TEXTS, ['\u2581']);
  const vocab = withMerges(['<unk>', '<s>', '</s>', ...bytesTokens(), ...chars, '[SP]', 'hello', '<m>', 'x y'], META_MERGES);
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [added(0, '<unk>', true, { normalized: false }), added(1, '<s>', true, { normalized: false }),
      added(2, '</s>', true, { normalized: false }), added(vocab['[SP]'], '[SP]', true, { lstrip: true, rstrip: true, normalized: false }),
      added(vocab['hello'], 'hello', false, { single_word: true, normalized: true }),
      added(vocab['<m>'], '<m>', false, { lstrip: true, normalized: false }),
      added(vocab['x y'], 'x y', false, { rstrip: true, normalized: false })],
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false },
    post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '</s>', type_id: 0 } }], pair: [], special_tokens: {
      '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
      { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: META_MERGES.map(m => m.join(' ')) },
  };
}

function metaspaceAlways() {
  const chars = charsOf(['hello world the theater ab x y'], ['\u2581', 'a', 'b', 'e', 'l', 'n', 'o', 'r', 's', 't']);
  const vocab = withMerges(['<unk>', '<s>', '</s>', ...chars], META_MERGES);
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [added(0, '<unk>', true), added(1, '<s>', true, { normalized: false }), added(2, '</s>', true, { normalized: false }),
      added(vocab['ab'], 'ab', false, { normalized: true })],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', fuse_unk: true, byte_fallback: false, vocab,
      merges: META_MERGES.filter(([a, b]) => (a in vocab) && (b in vocab)).map(m => m.join(' ')) },
  };
}

function byteLevelAlphabet() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  const m = {};
  bs.forEach((b, i) => { m[b] = String.fromCharCode(cs[i]); });
  return m;
}

function byteLevel(preTokenizer, name) {
  const map = byteLevelAlphabet();
  const alphabet = Object.keys(map).map(Number).sort((a, b) => a - b).map(b => map[b]);
  const merges = [['\u0120', 't'], ['h', 'e'], ['\u0120t', 'he'], ['\u0120', 'a'], ['i', 'n'], ['\u0120', 'w'], ['o', 'r'],
    ['\u0120w', 'or'], ['l', 'd'], ['\u0120wor', 'ld'], ['\u0120', '\u0120'], ['1', '2'], ['12', '3'], ["'", 's']];
  const vocab = withMerges(alphabet, merges);
  const base = Object.keys(vocab).length;
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [added(base, '<|x|>', true, { normalized: false }), added(base + 1, '\u00e9!', false, { normalized: false })],
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, fuse_unk: false, byte_fallback: false, ignore_merges: name === 'llama3_regex',
      vocab, merges: merges.map(m => m.join(' ')) },
  };
}

const LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

function charVocabWith(preTokenizer) {
  const vocab = vocabFrom(['<unk>', ...bytesTokens(), ...charsOf(TEXTS)]);
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: [added(0, '<unk>', true)], normalizer: null,
    pre_tokenizer: preTokenizer, post_processor: null, decoder: null,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', fuse_unk: false, byte_fallback: true, vocab, merges: [] },
  };
}

function metaspaceNeverAndPrepend(kind) {
  const chars = charsOf(TEXTS, ['\u2581']);
  const vocab = withMerges(['<unk>', '<s>', '</s>', ...bytesTokens(), ...chars, 'world'], META_MERGES);
  const llamaStyle = kind === 'prepend';
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [added(0, '<unk>', true, { normalized: false }), added(1, '<s>', true, { normalized: false }),
      added(2, '</s>', true, { normalized: false }),
      // a normalized added token: matched against the normalized text, so with Prepend it must start the piece
      added(vocab['\u2581wor'] !== undefined ? vocab['\u2581wor'] : 3, '\u2581wor', false, { normalized: true })],
    normalizer: llamaStyle ? { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' },
      { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] } : null,
    pre_tokenizer: llamaStyle ? null : { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'never', split: true },
    post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [], special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } } },
    decoder: llamaStyle ? { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
      { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] }
      : { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'never', split: true },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', fuse_unk: true, byte_fallback: true, vocab,
      merges: META_MERGES.map(m => m.join(' ')) },
  };
}

const CONFIGS = {
  metaspace_first: metaspaceFirst(),
  metaspace_always: metaspaceAlways(),
  bytelevel_gpt2: byteLevel({ type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }, 'gpt2'),
  llama3_regex: byteLevel({ type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: LLAMA3_REGEX }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] }, 'llama3_regex'),
  split_merged: charVocabWith({ type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: '\\d' }, behavior: 'MergedWithPrevious', invert: false },
    { type: 'Split', pattern: { String: '-' }, behavior: 'MergedWithNext', invert: false },
    { type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Removed', invert: false }] }),
  split_contiguous_invert: charVocabWith({ type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: '[.,!?]' }, behavior: 'Contiguous', invert: false },
    { type: 'Split', pattern: { Regex: '\\p{Lu}\\p{Ll}*' }, behavior: 'Isolated', invert: true }] }),
  digits_whitespace: charVocabWith({ type: 'Sequence', pretokenizers: [
    { type: 'Digits', individual_digits: false }, { type: 'Whitespace' }] }),
  metaspace_never: metaspaceNeverAndPrepend('never'),
  prepend_replace: metaspaceNeverAndPrepend('prepend'),
  bytelevel_no_prefix: byteLevel({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }, 'gpt2'),
  digits_individual_wssplit: charVocabWith({ type: 'Sequence', pretokenizers: [
    { type: 'Digits', individual_digits: true }, { type: 'WhitespaceSplit' }] }),
};

async function main() {
  const out = [];
  for (const [name, cfg] of Object.entries(CONFIGS)) {
    const json = JSON.stringify(cfg);
    fs.writeFileSync(name + '.tokenizer.json', json);
    const tok = Tokenizer.fromString(json);
    for (const text of TEXTS) {
      for (const add of [false, true]) {
        const enc = await tok.encode(text, null, { addSpecialTokens: add });
        const ids = Array.from(enc.getIds());
        const words = [];
        if (!add) {
          const wids = enc.getWordIds();
          let last = undefined;
          ids.forEach((id, i) => {
            const w = wids[i];
            if (w === null || w === undefined || w !== last) words.push([]);
            words[words.length - 1].push(id);
            last = w;
          });
        }
        out.push({ config: name, text, add_special_tokens: add, ids, words: add ? null : words,
          decoded: await tok.decode(ids, false), decoded_skip_special: await tok.decode(ids, true) });
      }
    }
  }
  fs.writeFileSync('expected.jsonl', out.map(r => JSON.stringify(r)).join('\n') + '\n');
}

main();

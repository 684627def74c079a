// Random texts and random id sequences run through the real tokenizer.json files with the Rust
// tokenizers library (npm tokenizers@0.23.2); the Java test replays them. Only ids and texts are
// stored here, never the vocabularies (those stay in the shared folder).
//
//   node make_differential.js /path/to/shared/tokenizers
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

let seed = 20240501;
function rnd(n) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; }

const PIECES = ['the', ' the', 'The', ' and', 'tokenizer', ' ', '  ', '   ', '\t', '\n', '\r\n', '\n\n', '.', ',', '!', '?',
  "'s", "'t", "n't", " 're", "'LL", '1', '12', '123', '2024', '3.14', '-', '--', '_', '(', ')', '[', ']', '{', '}', '<', '>',
  '<s>', '</s>', '<unk>', '<|begin_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<bos>', '<start_of_turn>', '<end_of_turn>',
  '<image>', '\u2581', '\u2581\u2581', 'caf\u00e9', 'cafe\u0301', '\u00fc', '\u00df', '\u65e5\u672c\u8a9e', '\u4e2d\u6587',
  '\ud55c\uad6d\uc5b4', '\u0627\u0644\u0639\u0631\u0628\u064a\u0629', '\u0939\u093f\u0928\u094d\u0926\u0940', '\u0440\u0443\u0441\u0441\u043a\u0438\u0439',
  '\u03b5\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac', '\ud83d\ude00', '\ud83d\udc4d\ud83c\udffd', '\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67',
  '\ud83c\uddeb\ud83c\uddf7', '\u00a0', '\u2003', '\u3000', '\u200b', '\u0000', '\u0007', '\u007f', '\u0085', '\ufeff', 'https://x.org/a?b=1',
  'def f(x):', '    return x', 'a', 'b', 'z', 'Q', '\u2028', '\ud800\udc00', '\ufffd', '\u0301', '\u2460', '\uff26'];

function randomText() {
  const n = rnd(12);
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[rnd(PIECES.length)];
  return s;
}

async function main() {
  const root = process.argv[2];
  for (const fam of ['llama2', 'mistral', 'llama3', 'llama3_bos', 'gemma3']) {
    const tok = Tokenizer.fromFile(root + '/' + fam + '/tokenizer.json');
    const size = JSON.parse(fs.readFileSync(root + '/' + fam + '/tokenizer.json', 'utf8')).model.vocab;
    const vocabSize = Object.keys(size).length;
    const rows = [];
    for (let i = 0; i < 300; i++) {
      const text = randomText();
      const add = rnd(2) === 1;
      const enc = await tok.encode(text, null, { addSpecialTokens: add });
      const ids = Array.from(enc.getIds());
      rows.push({ kind: 'encode', text, add_special_tokens: add, ids,
        decoded: await tok.decode(ids, false), decoded_skip_special: await tok.decode(ids, true) });
    }
    for (let i = 0; i < 200; i++) {
      const ids = [];
      const n = 1 + rnd(10);
      for (let k = 0; k < n; k++) ids.push(rnd(4) === 0 ? rnd(300) : rnd(vocabSize));
      rows.push({ kind: 'decode', ids, decoded: await tok.decode(ids, false), decoded_skip_special: await tok.decode(ids, true) });
    }
    fs.writeFileSync(fam + '.jsonl', rows.map(r => JSON.stringify(r)).join('\n') + '\n');
  }
}

main();

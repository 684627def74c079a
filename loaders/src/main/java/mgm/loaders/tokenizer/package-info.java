/**
 * Tokenizers of the MGM checkpoints, implemented from their file formats (no native library):
 * {@link mgm.loaders.tokenizer.HfTokenizer} for {@code tokenizer.json} (BPE with byte fallback or
 * byte-level BPE, as the Rust tokenizers library runs it), {@link mgm.loaders.tokenizer.SentencePieceTokenizer}
 * for {@code tokenizer.model} (sentencepiece BPE under transformers' slow LlamaTokenizer rules),
 * {@link mgm.loaders.tokenizer.Tokenizers#load} to pick one for a checkpoint folder,
 * {@link mgm.loaders.tokenizer.StreamDecoder} for streaming output and
 * {@link mgm.loaders.tokenizer.ImagePrompt} for MGM's {@code <image>} prompts.
 */
package mgm.loaders.tokenizer;

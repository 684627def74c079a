package mgm.loaders.tokenizer;

/** A token matched in the raw text before normal tokenisation (tokenizers' AddedToken). */
record AddedToken(int id, String content, boolean special, boolean singleWord, boolean lstrip, boolean rstrip,
                  boolean normalized) {}

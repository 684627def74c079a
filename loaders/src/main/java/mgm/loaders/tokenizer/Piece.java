package mgm.loaders.tokenizer;

/**
 * A run of text on its way to the model, with whether it starts at offset 0 of the original input
 * (Metaspace's prepend_scheme "first" adds the ▁ only there).
 */
record Piece(String text, boolean atOrigin) {}

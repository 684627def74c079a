package mgm.model.vision;

import mgm.runtime.Activation;

/**
 * The resolved CLIP vision tower: its config.json numbers plus MGM's feature selection
 * ({@code mm_vision_select_layer}: negative counts from the end of HF's hidden_states, where
 * index 0 is the pre-LayerNorm'd embeddings; {@code mm_vision_select_feature}: "patch" drops CLS,
 * "cls_patch" keeps it).
 */
public record ClipSpec(int hiddenSize, int intermediateSize, int layers, int heads, int imageSize, int patchSize,
                       float layerNormEps, Activation activation, int selectLayer, boolean keepCls) {

    public ClipSpec {
        if (hiddenSize <= 0 || intermediateSize <= 0 || layers <= 0 || heads <= 0 || hiddenSize % heads != 0) {
            throw new IllegalArgumentException("CLIP vision config: hidden_size " + hiddenSize + ", heads " + heads
                    + ", layers " + layers + ", intermediate_size " + intermediateSize + " do not make a transformer");
        }
        if (patchSize <= 0 || imageSize <= 0 || imageSize % patchSize != 0) {
            throw new IllegalArgumentException("CLIP vision config: image_size " + imageSize + " is not a multiple of patch_size " + patchSize);
        }
        int run = layersToRun(layers, selectLayer);
        if (run < 0 || run > layers) {
            throw new IllegalArgumentException("mm_vision_select_layer " + selectLayer + " is outside a " + layers + "-layer tower");
        }
    }

    /** Encoder layers to run so that the selected hidden state is the last one computed. */
    public int layersToRun() {
        return layersToRun(layers, selectLayer);
    }

    private static int layersToRun(int layers, int select) {
        return select < 0 ? layers + 1 + select : select;
    }

    public int gridSize() {
        return imageSize / patchSize;
    }

    public int patches() {
        return gridSize() * gridSize();
    }

    /** Tokens per image this tower hands to the resampler. */
    public int outputTokens() {
        return patches() + (keepCls ? 1 : 0);
    }
}

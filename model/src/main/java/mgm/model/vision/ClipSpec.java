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

    /**
     * The tower's shape read from its weights alone, for checkpoints that carry CLIP inside but whose
     * CLIP folder is absent: widths, depth, patch and image size follow from the tensor shapes;
     * heads assume CLIP's 64-wide heads; eps and activation are OpenAI CLIP's (1e-5, quick_gelu).
     */
    public static ClipSpec fromWeights(mgm.model.WeightLoader w, String prefix, int selectLayer, boolean keepCls) {
        String e = prefix + "embeddings.";
        long hidden = w.raw(e + "class_embedding", -1).dim(0);
        long patch = w.raw(e + "patch_embedding.weight", hidden, 3, -1, -1).dim(2);
        long positions = w.raw(e + "position_embedding.weight", -1, hidden).dim(0);
        long grid = Math.round(Math.sqrt(positions - 1));
        if (grid * grid != positions - 1) {
            throw new IllegalArgumentException("CLIP position embeddings " + positions + " are not a square grid + CLS");
        }
        int layers = 0;
        while (w.has(prefix + "encoder.layers." + layers + ".mlp.fc1.weight")) {
            layers++;
        }
        long inter = w.raw(prefix + "encoder.layers.0.mlp.fc1.weight", -1, hidden).dim(0);
        if (hidden % 64 != 0) {
            throw new IllegalArgumentException("the checkpoint carries a " + hidden + "-wide CLIP tower whose head count "
                    + "cannot be read from its weights; put its config.json folder where mm_vision_tower points or pass --vision-tower");
        }
        return new ClipSpec((int) hidden, (int) inter, layers, (int) (hidden / 64), (int) (grid * patch), (int) patch,
                1e-5f, Activation.QUICK_GELU, selectLayer, keepCls);
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

package mgm.loaders.config;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import mgm.runtime.Activation;

/**
 * The vision tower of an HF CLIP {@code config.json}: either a full {@code CLIPConfig}
 * ({@code model_type "clip"}, read from {@code vision_config}, with the legacy
 * {@code vision_config_dict} overriding it as transformers does) or a {@code CLIPVisionConfig}
 * ({@code model_type "clip_vision_model"}). The structural sizes are required; the rest take
 * transformers' defaults.
 *
 * @param hiddenSize        width (1024 for ViT-L)
 * @param intermediateSize  MLP width
 * @param numLayers         encoder layers
 * @param numHeads          attention heads
 * @param imageSize         input side in pixels
 * @param patchSize         patch side in pixels
 * @param numChannels       input channels
 * @param layerNormEps      LayerNorm epsilon
 * @param hiddenAct         activation name as saved
 * @param activation        the activation to use
 * @param projectionDim     width of the (unused by MGM) visual projection
 * @param source            the file read
 */
public record ClipVisionConfig(int hiddenSize, int intermediateSize, int numLayers, int numHeads, int imageSize,
                               int patchSize, int numChannels, double layerNormEps, String hiddenAct,
                               Activation activation, int projectionDim, Path source) {

    static final List<String> MODEL_TYPES = List.of("clip", "clip_vision_model");

    /** Reads {@code config.json} (or a folder holding it). */
    public static ClipVisionConfig load(Path configJsonOrFolder) {
        Path file = configJsonOrFolder.toFile().isDirectory() ? configJsonOrFolder.resolve("config.json") : configJsonOrFolder;
        return parse(ConfigReader.read(file));
    }

    /** Patches per side. */
    public int gridSize() {
        return imageSize / patchSize;
    }

    /** Patch tokens per image (576 for 336/14). */
    public int numPatches() {
        return gridSize() * gridSize();
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    static ClipVisionConfig parse(ConfigReader root) {
        String type = root.optionalString("model_type", root.has("vision_config") ? "clip" : null);
        if (type == null || !MODEL_TYPES.contains(type)) {
            throw root.invalid("model_type " + (type == null ? "unset" : "'" + type + "'")
                    + " is not a CLIP config (supported: " + String.join(", ", MODEL_TYPES) + ")");
        }
        ConfigReader v = type.equals("clip") ? withLegacyOverrides(root) : root;
        int hidden = v.requiredInt("hidden_size", 1, 1 << 16);
        int heads = v.requiredInt("num_attention_heads", 1, 1024);
        if (hidden % heads != 0) {
            throw v.invalid("key '" + v.name("hidden_size") + "' " + hidden + " is not a multiple of num_attention_heads " + heads);
        }
        int image = v.requiredInt("image_size", 1, 16384);
        int patch = v.requiredInt("patch_size", 1, image);
        if (image % patch != 0) {
            throw v.invalid("key '" + v.name("image_size") + "' " + image + " is not a multiple of patch_size " + patch);
        }
        String act = v.optionalString("hidden_act", "quick_gelu");
        Activation activation;
        try {
            activation = Activation.fromHf(act);
        } catch (IllegalArgumentException e) {
            throw v.invalid("key '" + v.name("hidden_act") + "': " + e.getMessage());
        }
        int projectionDefault = type.equals("clip") ? root.optionalInt("projection_dim", 512, 1, 1 << 16) : 512;
        return new ClipVisionConfig(hidden, v.requiredInt("intermediate_size", 1, 1 << 20),
                v.requiredInt("num_hidden_layers", 1, 1024), heads, image, patch,
                v.optionalInt("num_channels", 3, 1, 64), v.optionalDouble("layer_norm_eps", 1e-5, 0, 0.1, true),
                act, activation, v.optionalInt("projection_dim", projectionDefault, 1, 1 << 16), root.file);
    }

    /** {@code vision_config} with the old {@code vision_config_dict} values laid over it. */
    private static ConfigReader withLegacyOverrides(ConfigReader root) {
        ConfigReader vision = root.object("vision_config");
        ConfigReader legacy = root.objectOrNull("vision_config_dict");
        if (legacy == null) {
            return vision;
        }
        ObjectNode merged = ((ObjectNode) vision.node).deepCopy();
        for (Iterator<Map.Entry<String, JsonNode>> it = legacy.node.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            merged.set(e.getKey(), e.getValue());
        }
        return ConfigReader.of(root.file, merged).nested("vision_config.");
    }
}

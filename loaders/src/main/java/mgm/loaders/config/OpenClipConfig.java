package mgm.loaders.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * An OpenCLIP {@code open_clip_config.json} whose image tower is a timm ConvNeXt (what MGM's
 * high-resolution tower loads, e.g. {@code convnext_large_d_320}): the tower's name and settings
 * and the preprocessing mean/std. The stage widths and depths follow from the timm model name.
 *
 * @param embedDim         joint embedding width (unused by MGM)
 * @param timmModelName    e.g. {@code convnext_large}
 * @param timmPool         head pooling as saved
 * @param timmProj         head projection as saved
 * @param timmDrop         head dropout
 * @param timmDropPath     stochastic depth rate at training (identity at inference), or null
 * @param imageSize        training input side
 * @param mean             per-channel mean (RGB)
 * @param std              per-channel std (RGB)
 * @param source           the file read
 */
public record OpenClipConfig(int embedDim, String timmModelName, String timmPool, String timmProj, double timmDrop,
                             Double timmDropPath, int imageSize, List<Double> mean, List<Double> std, Path source) {

    /** OpenAI CLIP normalisation, open_clip's default when a config has no preprocess_cfg. */
    public static final List<Double> OPENAI_MEAN = List.of(0.48145466, 0.4578275, 0.40821073);
    public static final List<Double> OPENAI_STD = List.of(0.26862954, 0.26130258, 0.27577711);

    /** timm ConvNeXt variants: stage widths and block counts. */
    private static final Map<String, List<List<Integer>>> CONVNEXT = Map.of(
            "convnext_base", List.of(List.of(128, 256, 512, 1024), List.of(3, 3, 27, 3)),
            "convnext_large", List.of(List.of(192, 384, 768, 1536), List.of(3, 3, 27, 3)),
            "convnext_xxlarge", List.of(List.of(384, 768, 1536, 3072), List.of(3, 4, 30, 3)));

    public OpenClipConfig {
        mean = List.copyOf(mean);
        std = List.copyOf(std);
    }

    /** Reads {@code open_clip_config.json} (or a folder holding it). */
    public static OpenClipConfig load(Path fileOrFolder) {
        Path file = fileOrFolder.toFile().isDirectory() ? fileOrFolder.resolve("open_clip_config.json") : fileOrFolder;
        return parse(ConfigReader.read(file));
    }

    /** Channel widths of the four stages (192/384/768/1536 for convnext_large). */
    public List<Integer> stageDims() {
        return CONVNEXT.get(timmModelName).get(0);
    }

    /** Blocks per stage (3/3/27/3 for convnext_large). */
    public List<Integer> stageDepths() {
        return CONVNEXT.get(timmModelName).get(1);
    }

    /** Width of the four stage maps concatenated (2880 for convnext_large): MGM's {@code mm_hidden_size_aux}. */
    public int concatenatedDim() {
        return stageDims().stream().mapToInt(Integer::intValue).sum();
    }

    static OpenClipConfig parse(ConfigReader root) {
        ConfigReader model = root.object("model_cfg");
        ConfigReader vision = model.object("vision_cfg");
        if (!vision.has("timm_model_name")) {
            throw vision.invalid("key 'model_cfg.vision_cfg.timm_model_name' is missing: only timm ConvNeXt image towers are "
                    + "supported (" + String.join(", ", CONVNEXT.keySet().stream().sorted().toList()) + ")");
        }
        String timm = vision.requiredString("timm_model_name");
        if (!CONVNEXT.containsKey(timm)) {
            throw vision.invalid("key 'model_cfg.vision_cfg.timm_model_name' = \"" + timm + "\" is not supported (supported: "
                    + String.join(", ", CONVNEXT.keySet().stream().sorted().toList()) + ")");
        }
        int image = imageSize(vision);
        ConfigReader pre = root.objectOrNull("preprocess_cfg");
        List<Double> mean = pre == null ? OPENAI_MEAN : pre.numbers("mean", OPENAI_MEAN, 3, 0, 1, false);
        List<Double> std = pre == null ? OPENAI_STD : pre.numbers("std", OPENAI_STD, 3, 0, 10, true);
        return new OpenClipConfig(model.requiredInt("embed_dim", 1, 1 << 16), timm,
                vision.optionalString("timm_pool", "avg"), vision.optionalString("timm_proj", "linear"),
                vision.optionalDouble("timm_drop", 0, 0, 1, false), vision.nullableDouble("timm_drop_path", 0, 1),
                image, mean, std, root.file);
    }

    /** {@code image_size} is an int or a square [h, w]. */
    private static int imageSize(ConfigReader vision) {
        JsonNode v = vision.raw("image_size");
        if (v != null && v.isArray()) {
            if (v.size() != 2 || !v.get(0).isIntegralNumber() || v.get(0).intValue() != v.get(1).intValue()
                    || !v.get(1).isIntegralNumber()) {
                throw vision.wrongType("image_size", v, "an integer or a square [size, size]");
            }
            int s = v.get(0).intValue();
            if (s < 1 || s > 16384) {
                throw vision.outOfRange("image_size", v, "[1, 16384]");
            }
            return s;
        }
        return vision.requiredInt("image_size", 1, 16384);
    }
}

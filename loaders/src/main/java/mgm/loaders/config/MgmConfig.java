package mgm.loaders.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A model folder's {@code config.json}: the decoder LLM plus, for MGM checkpoints, the
 * multimodal keys MGM's training writes (architecture notes §6). For a plain LLM config the
 * vision fields are null/defaults and {@link #isMultimodal()} is false.
 *
 * @param llm                      the decoder
 * @param mmVisionTower            CLIP tower folder (relative, as saved), or null for a text-only model
 * @param mmVisionTowerAux         ConvNeXt tower folder, or null
 * @param mmHiddenSize             CLIP feature width (projector input)
 * @param mmHiddenSizeAux          concatenated ConvNeXt feature width, or 0 without an aux tower
 * @param mmProjectorType          {@code linear}, {@code identity} or {@code mlp<N>x_gelu}
 * @param mmVisionSelectLayer      CLIP hidden state to use (-2: output of the second-to-last layer)
 * @param mmVisionSelectFeature    {@code patch} (drop CLS) or {@code cls_patch}
 * @param useMmProj                saved flag, informational
 * @param imageSizeAux             high-resolution side (768, 1536 for HD), or 0 without an aux tower
 * @param imageGrid                low-resolution grid: 1, or 2 for HD (4 crops)
 * @param imageGlobal              HD adds a global thumbnail
 * @param imageAspectRatio         {@code pad}, {@code square}, or null (no padding)
 * @param imageGridPinpoints       unused by MGM; kept as saved ({@code [h, w]} pairs), possibly empty
 * @param optimizeVisionTower      the CLIP tower was trained (then its weights are in the checkpoint)
 * @param optimizeVisionTowerAux   the ConvNeXt tower was trained
 * @param mmUseImStartEnd          image start/end tokens were added (false in released models)
 * @param mmUseImPatchToken        image patch tokens were added (false in released models)
 * @param tuneMmMlpAdapter         training flag, informational
 * @param freezeMmMlpAdapter       training flag, informational
 * @param mmProjectorLr            training flag, informational; null when unset
 * @param tokenizerPaddingSide     {@code right} or {@code left}
 * @param tokenizerModelMaxLength  sequence truncation length, or null when unset
 * @param useCache                 saved flag, informational
 */
public record MgmConfig(LlmConfig llm, String mmVisionTower, String mmVisionTowerAux, int mmHiddenSize,
                        int mmHiddenSizeAux, String mmProjectorType, int mmVisionSelectLayer,
                        String mmVisionSelectFeature, boolean useMmProj, int imageSizeAux, int imageGrid,
                        boolean imageGlobal, String imageAspectRatio, List<List<Integer>> imageGridPinpoints,
                        boolean optimizeVisionTower, boolean optimizeVisionTowerAux, boolean mmUseImStartEnd,
                        boolean mmUseImPatchToken, boolean tuneMmMlpAdapter, boolean freezeMmMlpAdapter,
                        Double mmProjectorLr, String tokenizerPaddingSide, Integer tokenizerModelMaxLength,
                        boolean useCache) {

    private static final Pattern MLP_GELU = Pattern.compile("mlp([1-9][0-9]?)x_gelu");

    public MgmConfig {
        imageGridPinpoints = List.copyOf(imageGridPinpoints);
    }

    /** Reads {@code config.json} (or a folder holding it). */
    public static MgmConfig load(Path configJsonOrFolder) {
        Path file = configJsonOrFolder.toFile().isDirectory() ? configJsonOrFolder.resolve("config.json") : configJsonOrFolder;
        return parse(ConfigReader.read(file));
    }

    /** Whether the model takes images (it names a vision tower). */
    public boolean isMultimodal() {
        return mmVisionTower != null;
    }

    /** Whether the model has the ConvNeXt high-resolution tower (and patch info mining). */
    public boolean hasAuxTower() {
        return mmVisionTowerAux != null;
    }

    /** The MLP depth of {@code mlp<N>x_gelu}, 0 for {@code linear}/{@code identity}. */
    public int projectorMlpDepth() {
        var m = MLP_GELU.matcher(mmProjectorType);
        return m.matches() ? Integer.parseInt(m.group(1)) : 0;
    }

    static MgmConfig parse(ConfigReader c) {
        LlmConfig llm = LlmConfig.parse(c);
        String tower = c.optionalString("mm_vision_tower", null);
        if (tower == null && llm.isMgmArchitecture()) {
            throw c.invalid("key 'mm_vision_tower' is missing, and architecture " + llm.architecture() + " needs a vision tower");
        }
        boolean mm = tower != null;
        String aux = c.optionalString("mm_vision_tower_aux", null);
        if (aux != null && !mm) {
            throw c.invalid("key 'mm_vision_tower_aux' is set without 'mm_vision_tower'");
        }
        int hidden = mm ? c.requiredInt("mm_hidden_size", 1, 1 << 16) : c.optionalInt("mm_hidden_size", 0, 0, 1 << 16);
        int hiddenAux = aux != null ? c.requiredInt("mm_hidden_size_aux", 1, 1 << 16) : c.optionalInt("mm_hidden_size_aux", 0, 0, 1 << 16);
        String projector = c.optionalString("mm_projector_type", "linear");
        if (!projector.equals("linear") && !projector.equals("identity") && !MLP_GELU.matcher(projector).matches()) {
            throw c.invalid("key 'mm_projector_type' = \"" + projector + "\" is not supported (supported: linear, identity, mlp<N>x_gelu)");
        }
        int selectLayer = c.optionalInt("mm_vision_select_layer", -1, -256, 256);
        String selectFeature = c.choice("mm_vision_select_feature", "patch", List.of("patch", "cls_patch"));
        int sizeAux = aux != null ? c.requiredInt("image_size_aux", 32, 8192) : c.optionalInt("image_size_aux", 0, 0, 8192);
        int grid = c.optionalInt("image_grid", 1, 1, 8);
        boolean global = c.optionalBool("image_global", false);
        String aspect = c.choice("image_aspect_ratio", null, List.of("pad", "square"));
        List<List<Integer>> pinpoints = pinpoints(c);
        Integer maxLen = c.nullableInt("tokenizer_model_max_length", 1, 1 << 24);
        return new MgmConfig(llm, tower, aux, hidden, hiddenAux, projector, selectLayer, selectFeature,
                c.optionalBool("use_mm_proj", false), sizeAux, grid, global, aspect, pinpoints,
                c.optionalBool("optimize_vision_tower", false), c.optionalBool("optimize_vision_tower_aux", false),
                c.optionalBool("mm_use_im_start_end", false), c.optionalBool("mm_use_im_patch_token", false),
                c.optionalBool("tune_mm_mlp_adapter", false), c.optionalBool("freeze_mm_mlp_adapter", false),
                c.nullableDouble("mm_projector_lr", 0, 1e3),
                c.choice("tokenizer_padding_side", "right", List.of("right", "left")), maxLen,
                c.optionalBool("use_cache", true));
    }

    private static List<List<Integer>> pinpoints(ConfigReader c) {
        JsonNode v = c.raw("image_grid_pinpoints");
        if (v == null) {
            return List.of();
        }
        List<List<Integer>> out = new ArrayList<>();
        if (!v.isArray()) {
            throw c.wrongType("image_grid_pinpoints", v, "a list of [height, width] pairs");
        }
        for (JsonNode pair : v) {
            if (!pair.isArray() || pair.size() != 2 || !pair.get(0).canConvertToInt() || !pair.get(1).canConvertToInt()
                    || !pair.get(0).isIntegralNumber() || !pair.get(1).isIntegralNumber()
                    || pair.get(0).intValue() <= 0 || pair.get(1).intValue() <= 0) {
                throw c.wrongType("image_grid_pinpoints", v, "a list of positive [height, width] pairs");
            }
            out.add(List.of(pair.get(0).intValue(), pair.get(1).intValue()));
        }
        return out;
    }
}

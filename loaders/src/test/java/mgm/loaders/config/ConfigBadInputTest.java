package mgm.loaders.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Function;
import mgm.loaders.CheckpointException;
import mgm.loaders.Fixtures;
import mgm.loaders.Fuzz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Missing, mistyped and absurd values: one-line errors naming the file and the key. */
class ConfigBadInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private ObjectNode sample(String name) throws IOException {
        return (ObjectNode) JSON.readTree(Fixtures.resource("configs/" + name).toFile());
    }

    private Path write(ObjectNode n) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, n.toString());
        return f;
    }

    private <T> void fails(String sample, Consumer<ObjectNode> edit, Function<Path, T> loader, String expected) throws IOException {
        ObjectNode n = sample(sample);
        edit.accept(n);
        Path f = write(n);
        CheckpointException e = assertThrows(CheckpointException.class, () -> loader.apply(f));
        assertTrue(e instanceof ConfigException || e.getMessage().contains("JSON"), e.getClass().toString());
        assertEquals(f, e.file());
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    private void llm(Consumer<ObjectNode> edit, String expected) throws IOException {
        fails("llama-3-8b-instruct.json", edit, LlmConfig::load, expected);
    }

    @Test
    void llmValues() throws IOException {
        llm(n -> n.remove("hidden_size"), "key 'hidden_size' is missing");
        llm(n -> n.put("hidden_size", -4096), "key 'hidden_size' = -4096 is outside the sane range");
        llm(n -> n.put("hidden_size", "4096"), "key 'hidden_size' must be an integer, not a string");
        llm(n -> n.put("num_hidden_layers", 1.5), "key 'num_hidden_layers' must be an integer");
        llm(n -> n.put("num_hidden_layers", 0), "key 'num_hidden_layers' = 0");
        llm(n -> n.put("vocab_size", 99999999999L), "key 'vocab_size' = 99999999999");
        llm(n -> n.put("num_key_value_heads", 5), "not a multiple of num_key_value_heads 5");
        llm(n -> n.put("num_key_value_heads", 64), "key 'num_key_value_heads' = 64");
        llm(n -> n.put("hidden_size", 4001), "hidden_size 4001 is not a multiple of num_attention_heads 32");
        llm(n -> n.put("hidden_size", 4000), "head dimension 125 is odd");
        llm(n -> n.put("rms_norm_eps", 0), "key 'rms_norm_eps' = 0");
        llm(n -> n.put("rope_theta", -1), "key 'rope_theta' = -1");
        llm(n -> n.put("eos_token_id", 128256), "key 'eos_token_id' = 128256");
        llm(n -> n.putArray("eos_token_id").add(128001).add("x"), "key 'eos_token_id' must be an integer");
        llm(n -> n.put("torch_dtype", "int4"), "key 'torch_dtype' = \"int4\" is not supported");
        llm(n -> n.put("hidden_act", "relu2"), "unsupported activation 'relu2'");
        llm(n -> n.put("tie_word_embeddings", "no"), "key 'tie_word_embeddings' must be true or false");
        llm(n -> n.putArray("architectures").add("Qwen2ForCausalLM"), "unsupported model: architectures 'Qwen2ForCausalLM'");
        llm(n -> n.putArray("architectures").add("Qwen2ForCausalLM"), "supported architectures: MGMLlamaForCausalLM");
        llm(n -> { n.remove("architectures"); n.put("model_type", "gemma2"); }, "model_type 'gemma2'");
        llm(n -> { n.remove("architectures"); n.remove("model_type"); }, "neither 'architectures' nor 'model_type'");
    }

    @Test
    void ropeScaling() throws IOException {
        ObjectNode n = sample("llama-3-8b-instruct.json");
        n.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
        n.put("max_position_embeddings", 131072);
        RopeScaling r = LlmConfig.load(write(n)).ropeScaling();
        assertEquals(new RopeScaling(RopeScaling.Type.LLAMA3, 8.0, 1.0, 4.0, 8192), r);
        n.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
        assertEquals(RopeScaling.Type.LINEAR, LlmConfig.load(write(n)).ropeScaling().type());
        n.putObject("rope_scaling").put("type", "dynamic").put("factor", 2.0);
        assertEquals(RopeScaling.Type.DYNAMIC, LlmConfig.load(write(n)).ropeScaling().type());
        llm(m -> m.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0), "\"yarn\" is not supported (supported: linear, dynamic, llama3)");
        llm(m -> m.putObject("rope_scaling").put("type", "linear").put("factor", 0), "key 'rope_scaling.factor' = 0");
        llm(m -> m.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0), "key 'rope_scaling.low_freq_factor' is missing");
        llm(m -> m.put("rope_scaling", 3), "key 'rope_scaling' must be an object");
    }

    @Test
    void mgmValues() throws IOException {
        fails("mgm-7b-hd.json", n -> n.remove("mm_vision_tower"), MgmConfig::load, "key 'mm_vision_tower' is missing");
        fails("mgm-7b-hd.json", n -> n.remove("mm_hidden_size"), MgmConfig::load, "key 'mm_hidden_size' is missing");
        fails("mgm-7b-hd.json", n -> n.remove("image_size_aux"), MgmConfig::load, "key 'image_size_aux' is missing");
        fails("mgm-7b-hd.json", n -> n.put("image_size_aux", 7), MgmConfig::load, "key 'image_size_aux' = 7");
        fails("mgm-7b-hd.json", n -> n.put("image_grid", 100), MgmConfig::load, "key 'image_grid' = 100");
        fails("mgm-7b-hd.json", n -> n.put("mm_projector_type", "resampler"), MgmConfig::load, "\"resampler\" is not supported");
        fails("mgm-7b-hd.json", n -> n.put("image_aspect_ratio", "anyres"), MgmConfig::load, "'image_aspect_ratio' = \"anyres\"");
        fails("mgm-7b-hd.json", n -> n.put("mm_vision_select_feature", "cls"), MgmConfig::load, "(supported: patch, cls_patch)");
        fails("mgm-7b-hd.json", n -> n.put("tokenizer_padding_side", "middle"), MgmConfig::load, "tokenizer_padding_side");
        fails("mgm-7b-hd.json", n -> n.putArray("image_grid_pinpoints").add(3), MgmConfig::load, "image_grid_pinpoints");
        fails("mgm-7b-hd.json", n -> n.put("model_type", "mgm").putArray("architectures").add("MGMQwenForCausalLM"),
                MgmConfig::load, "unsupported model");
    }

    @Test
    void visionTowerValues() throws IOException {
        fails("clip-vit-large-patch14-336.json", n -> ((ObjectNode) n.get("vision_config_dict")).put("patch_size", 15),
                ClipVisionConfig::load, "key 'vision_config.image_size' 336 is not a multiple of patch_size 15");
        fails("clip-vit-large-patch14-336.json", n -> { n.remove("vision_config_dict"); ((ObjectNode) n.get("vision_config")).remove("hidden_size"); },
                ClipVisionConfig::load, "key 'vision_config.hidden_size' is missing");
        fails("clip-vit-large-patch14-336.json", n -> n.put("model_type", "siglip"), ClipVisionConfig::load,
                "model_type 'siglip' is not a CLIP config (supported: clip, clip_vision_model)");
        fails("open_clip_config-convnext_large_d_320.json", n -> ((ObjectNode) n.get("model_cfg").get("vision_cfg")).put("timm_model_name", "vit_large"),
                OpenClipConfig::load, "\"vit_large\" is not supported (supported: convnext_base, convnext_large, convnext_xxlarge)");
        fails("open_clip_config-convnext_large_d_320.json", n -> ((ObjectNode) n.get("preprocess_cfg")).putArray("std").add(0.2).add(0.2),
                OpenClipConfig::load, "key 'preprocess_cfg.std' must be a list of 3 numbers");
        fails("open_clip_config-convnext_large_d_320.json", n -> ((ObjectNode) n.get("preprocess_cfg")).putArray("std").add(0.2).add(0).add(0.2),
                OpenClipConfig::load, "key 'preprocess_cfg.std' = 0");
        fails("open_clip_config-convnext_large_d_320.json", n -> n.remove("model_cfg"), OpenClipConfig::load, "key 'model_cfg' is missing");
    }

    @Test
    void clipVisionConfigAloneAndLegacyOverrides() throws IOException {
        ObjectNode full = sample("clip-vit-large-patch14-336.json");
        ObjectNode vision = (ObjectNode) full.get("vision_config").deepCopy();
        assertEquals(576, ClipVisionConfig.load(write(vision)).numPatches(), "a CLIPVisionConfig on its own");
        // transformers lays vision_config_dict over vision_config
        ((ObjectNode) full.get("vision_config")).put("image_size", 224);
        assertEquals(336, ClipVisionConfig.load(write(full)).imageSize());
        full.remove("vision_config_dict");
        assertEquals(224, ClipVisionConfig.load(write(full)).imageSize());
    }

    @Test
    void unreadableFiles() throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{\"hidden_size\": 4096,");
        CheckpointException e = assertThrows(CheckpointException.class, () -> LlmConfig.load(f));
        assertTrue(e.getMessage().contains("config is not valid JSON at line 1"), e.getMessage());
        Files.writeString(f, "[1, 2]");
        assertTrue(assertThrows(CheckpointException.class, () -> LlmConfig.load(f)).getMessage().contains("must be a JSON object"));
        Files.writeString(f, "{\"a\": 1, \"a\": 2}");
        assertTrue(assertThrows(CheckpointException.class, () -> LlmConfig.load(f)).getMessage().contains("Duplicate field"));
        assertTrue(assertThrows(CheckpointException.class, () -> LlmConfig.load(dir.resolve("absent.json"))).getMessage()
                .contains("not found"));
    }

    @Test
    void mutatedConfigsFailCleanly() throws IOException {
        Random rnd = new Random(99);
        for (String name : new String[] {"mgm-7b-hd.json", "clip-vit-large-patch14-336.json", "open_clip_config-convnext_large_d_320.json"}) {
            byte[] valid = Files.readAllBytes(Fixtures.resource("configs/" + name));
            for (int i = 0; i < 150; i++) {
                Path f = dir.resolve("mutant.json");
                Files.write(f, Fuzz.mutate(valid, rnd));
                try {
                    switch (name) {
                        case "mgm-7b-hd.json" -> MgmConfig.load(f);
                        case "clip-vit-large-patch14-336.json" -> ClipVisionConfig.load(f);
                        default -> OpenClipConfig.load(f);
                    }
                } catch (CheckpointException expected) {
                    assertFalse(expected.getMessage().contains("\n"), expected.getMessage());
                } catch (RuntimeException e) {
                    throw new AssertionError(name + " case " + i + ": unclean failure " + e, e);
                }
            }
        }
    }
}

package mgm.tools.tiny;

import static mgm.tools.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import mgm.loaders.Checkpoint;
import mgm.loaders.ShardIndex;
import mgm.loaders.config.ClipVisionConfig;
import mgm.loaders.config.LlmConfig;
import mgm.loaders.config.MgmConfig;
import mgm.loaders.config.OpenClipConfig;
import mgm.loaders.tokenizer.Tokenizer;
import mgm.loaders.tokenizer.Tokenizers;
import mgm.model.MgmModel;
import mgm.model.llm.KvCache;
import mgm.runtime.Activation;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.ReferenceBackend;
import mgm.tools.CliRun;
import mgm.tools.tiny.TinyCheckpoints.Options;
import mgm.tools.tiny.TinyCheckpoints.Result;
import mgm.tools.tiny.TinyCheckpoints.WeightDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The generated sets are what real users have on disk, and our own loaders read them as such. */
class TinyCheckpointsTest {

    @Test
    void writesTheLayoutUsersHave(@TempDir Path root) {
        Result r = TinyCheckpoints.write(Options.of(TinyFamily.VICUNA, root));
        assertEquals(root.resolve("work_dirs/MGM/MGM-tiny-vicuna"), r.model());
        assertEquals(root.resolve("model_zoo/OpenAI/clip-vit-large-patch14-336"), r.clip());
        assertEquals(root.resolve("model_zoo/OpenAI/openclip-convnext-large-d-320-laion2B-s29B-b131K-ft-soup"), r.convNext());
        for (Path f : r.files()) {
            assertTrue(Files.isRegularFile(f), f + " is listed but missing");
        }
        for (String f : List.of("config.json", "generation_config.json", "model.safetensors.index.json", "tokenizer.json",
                "tokenizer_config.json", "special_tokens_map.json")) {
            assertTrue(Files.isRegularFile(r.model().resolve(f)), f);
        }
        for (String f : List.of("config.json", "model.safetensors", "preprocessor_config.json")) {
            assertTrue(Files.isRegularFile(r.clip().resolve(f)), f);
        }
        for (String f : List.of("open_clip_config.json", "open_clip_model.safetensors")) {
            assertTrue(Files.isRegularFile(r.convNext().resolve(f)), f);
        }
        try (Stream<Path> s = Files.list(root.resolve("work_dirs/MGM"))) {
            assertEquals(List.of(r.model()), s.toList(), "no temporary folders left behind");
        } catch (IOException e) {
            throw new AssertionError(e);
        }

        MgmConfig cfg = MgmConfig.load(r.model());
        assertEquals("MGMLlamaForCausalLM", cfg.llm().architecture());
        assertEquals("model_zoo/OpenAI/clip-vit-large-patch14-336", cfg.mmVisionTower());
        assertEquals("model_zoo/OpenAI/openclip-convnext-large-d-320-laion2B-s29B-b131K-ft-soup", cfg.mmVisionTowerAux());
        assertEquals(768, cfg.imageSizeAux());
        assertEquals(1, cfg.imageGrid());
        assertEquals("mlp2x_gelu", cfg.mmProjectorType());
        assertEquals(-2, cfg.mmVisionSelectLayer());
        assertEquals("pad", cfg.imageAspectRatio());

        ClipVisionConfig clip = ClipVisionConfig.load(r.clip());
        assertEquals(336, clip.imageSize());
        assertEquals(14, clip.patchSize());
        assertEquals(576, clip.numPatches());
        assertEquals(cfg.mmHiddenSize(), clip.hiddenSize());
        assertEquals(Activation.QUICK_GELU, clip.activation());
        OpenClipConfig open = OpenClipConfig.load(r.convNext());
        assertEquals(List.of(0.48145466, 0.4578275, 0.40821073), open.mean());

        ShardIndex index = ShardIndex.read(r.model().resolve("model.safetensors.index.json"));
        assertTrue(index.weightMap().values().stream().distinct().count() >= 2, "MGM's loader needs a sharded checkpoint");
        try (Checkpoint m = Checkpoint.open(r.model()); Checkpoint c = Checkpoint.open(r.clip());
             Checkpoint o = Checkpoint.open(r.convNext())) {
            assertArrayEquals(new long[] {577, 32}, c.info("vision_model.embeddings.position_embedding.weight").shape());
            assertArrayEquals(new long[] {32, 3, 14, 14}, c.info("vision_model.embeddings.patch_embedding.weight").shape());
            assertEquals(DType.I64, c.info("vision_model.embeddings.position_ids").dtype());
            assertTrue(c.contains("text_model.encoder.layers.0.mlp.fc1.weight"), "a full CLIPModel, text tower included");
            assertArrayEquals(new long[] {8, 3, 4, 4}, o.info("visual.trunk.stem.0.weight").shape());
            assertArrayEquals(new long[] {64, 32, 2, 2}, o.info("visual.trunk.stages.3.downsample.1.weight").shape());
            assertArrayEquals(new long[] {32, 120}, m.info("model.vlm_uni_aux_projector.1.weight").shape());
            assertArrayEquals(new long[] {64, 32}, m.info("model.mm_projector.0.weight").shape());
            assertArrayEquals(new long[] {cfg.llm().vocabSize(), 64}, m.info("lm_head.weight").shape());
            // MGM's full state dict carries copies of both towers, equal to the folders' tensors.
            sameValues(c, "vision_model.encoder.layers.1.mlp.fc2.weight", m,
                    "model.vision_tower.vision_tower.vision_model.encoder.layers.1.mlp.fc2.weight");
            sameValues(o, "visual.trunk.stages.2.blocks.1.conv_dw.weight", m,
                    "model.vision_tower_aux.vision_stages.2.blocks.1.conv_dw.weight");
            sameValues(o, "visual.trunk.stem.0.weight", m, "model.vision_tower_aux.vision_stem.0.weight");
        }
    }

    private static void sameValues(Checkpoint a, String na, Checkpoint b, String nb) {
        assertArrayEquals(a.tensor(na).toFloatArray(), b.tensor(nb).toFloatArray(), na + " vs " + nb);
    }

    /** Each family's structural quirks are in config.json and the tensors, and MgmModel runs the set. */
    @ParameterizedTest
    @EnumSource(TinyFamily.class)
    void everyFamilyLoadsAndRuns(TinyFamily family, @TempDir Path root) {
        Result r = TinyCheckpoints.write(Options.of(family, root).withTowersInCheckpoint(false));
        LlmConfig c = LlmConfig.load(r.model().resolve("config.json"));
        Tokenizer tok = Tokenizers.load(r.model());
        assertEquals(c.vocabSize(), tok.vocabSize(), "vocab_size covers the tokenizer exactly");
        String prompt = switch (family) {
            case VICUNA -> "USER: <image>\nWhat is in the image? ASSISTANT:";
            case LLAMA3 -> "<|start_header_id|>user<|end_header_id|>\n\n<image>\nWhat is in the image?<|eot_id|>"
                    + "<|start_header_id|>system<|end_header_id|>\n\n";
            case GEMMA -> "<start_of_turn>user\n<image>\nWhat is in the image?<end_of_turn>\n<start_of_turn>model\n";
            case MIXTRAL -> "[INST] <image>\nWhat is in the image? [/INST]";
            case YI -> "<|im_start|>user\n<image>\nWhat is in the image?<|im_end|><|im_start|>assistant\n";
        };
        try (Checkpoint m = Checkpoint.open(r.model())) {
            switch (family) {
                case VICUNA -> assertEquals(c.numHeads(), c.numKvHeads());
                case LLAMA3 -> {
                    assertEquals(500000.0, c.ropeTheta());
                    assertTrue(c.numKvHeads() < c.numHeads());
                    int begin = tok.tokenToId("<|begin_of_text|>");
                    assertEquals(begin + 9, tok.tokenToId("<|eot_id|>"), "LLaMA-3's special-token offsets");
                    assertEquals(List.of(begin + 9), c.eosTokenIds());
                }
                case GEMMA -> {
                    assertEquals(1, c.numKvHeads());
                    assertNotEquals(c.hiddenSize() / c.numHeads(), c.headDim());
                    assertTrue(c.tieWordEmbeddings());
                    assertFalse(m.contains("lm_head.weight"), "Gemma's head is tied");
                    assertEquals(Activation.GELU_TANH, c.activation());
                    assertEquals(2, tok.tokenToId("<bos>"));
                    assertTrue(tok.tokenToId("<start_of_turn>") > 0 && tok.tokenToId("<end_of_turn>") > 0);
                }
                case MIXTRAL -> {
                    assertEquals(8, c.numExperts());
                    assertEquals(2, c.numExpertsPerTok());
                    assertTrue(m.contains("model.layers.1.block_sparse_moe.experts.7.w3.weight"));
                    assertEquals(null, c.slidingWindow());
                }
                case YI -> {
                    assertEquals(5000000.0, c.ropeTheta());
                    assertEquals(List.of(tok.tokenToId("<|im_end|>")), c.eosTokenIds());
                }
            }
        }
        MgmModel.Options o = MgmModel.Options.defaults(r.model(), new ReferenceBackend());
        try (MgmModel model = MgmModel.load(o)) {
            int[] ids = model.tokenize(prompt);
            assertEquals(1, java.util.Arrays.stream(ids).filter(i -> i == -200).count(), "one image marker");
            assertEquals(576, model.tokensPerImage());
            int[] text = java.util.Arrays.stream(ids).filter(i -> i != -200).toArray();
            // Prompts split into word-like pieces, not characters.
            String question = "What is in the image? Describe the cat.";
            int[] words = tok.encode(question, false);
            assertTrue(words.length <= question.length() / 3, words.length + " tokens: " + java.util.Arrays.toString(words));
            assertTrue(text.length < prompt.length() / 2, text.length + " tokens for " + prompt.length() + " characters");
            try (KvCache cache = model.decoder().newCache(text.length + 1, DType.F32)) {
                Tensor logits = model.decoder().prefill(cache, text, null);
                float[] v = logits.toFloatArray();
                assertEquals(c.vocabSize(), v.length);
                for (float x : v) {
                    assertTrue(Float.isFinite(x));
                }
            }
        }
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherValues(@TempDir Path tmp) throws IOException {
        Result a = TinyCheckpoints.write(Options.of(TinyFamily.MIXTRAL, tmp.resolve("a")).withSeed(7));
        Result b = TinyCheckpoints.write(Options.of(TinyFamily.MIXTRAL, tmp.resolve("b")).withSeed(7));
        Result c = TinyCheckpoints.write(Options.of(TinyFamily.MIXTRAL, tmp.resolve("c")).withSeed(8));
        assertEquals(contents(tmp.resolve("a")).keySet(), contents(tmp.resolve("b")).keySet());
        for (Map.Entry<String, byte[]> e : contents(tmp.resolve("a")).entrySet()) {
            assertArrayEquals(e.getValue(), contents(tmp.resolve("b")).get(e.getKey()), e.getKey());
        }
        try (Checkpoint x = Checkpoint.open(a.model()); Checkpoint y = Checkpoint.open(c.model())) {
            String n = "model.layers.0.self_attn.q_proj.weight";
            assertFalse(java.util.Arrays.equals(x.tensor(n).toFloatArray(), y.tensor(n).toFloatArray()));
        }
    }

    @Test
    void reducedPrecisionModelsKeepFloat32Towers(@TempDir Path root) {
        for (WeightDtype d : new WeightDtype[] {WeightDtype.BF16, WeightDtype.F16}) {
            Result r = TinyCheckpoints.write(Options.of(TinyFamily.GEMMA, root).withDtype(d).withName("g-" + d).withHd(true));
            DType want = d == WeightDtype.BF16 ? DType.BF16 : DType.F16;
            assertEquals(want, LlmConfig.load(r.model().resolve("config.json")).torchDtype());
            MgmConfig cfg = MgmConfig.load(r.model());
            assertEquals(1536, cfg.imageSizeAux());
            assertEquals(2, cfg.imageGrid());
            assertTrue(cfg.imageGlobal());
            try (Checkpoint m = Checkpoint.open(r.model()); Checkpoint c = Checkpoint.open(r.clip())) {
                for (String n : m.names()) {
                    assertEquals(n.endsWith("position_ids") ? DType.I64 : want, m.info(n).dtype(), n);
                }
                assertEquals(DType.F32, c.info("vision_model.pre_layrnorm.weight").dtype());
                // The BF16/F16 copy of a tower tensor is the rounding of the F32 one.
                float[] f32 = c.tensor("vision_model.pre_layrnorm.weight").toFloatArray();
                float[] low = m.tensor("model.vision_tower.vision_tower.vision_model.pre_layrnorm.weight").toFloatArray();
                for (int i = 0; i < f32.length; i++) {
                    assertEquals(f32[i], low[i], Math.abs(f32[i]) * (d == WeightDtype.BF16 ? 4e-3 : 5e-4));
                }
            }
        }
    }

    /** The checkpoints committed in model/src/test/resources/tiny are exactly what the generator writes. */
    @Test
    void reproducesTheCommittedTestCheckpoints(@TempDir Path tmp) throws IOException {
        Path committed = Path.of("..", "model", "src", "test", "resources", "tiny");
        assumeTrue(Files.isDirectory(committed.resolve("work_dirs")), "committed tiny checkpoints not found at " + committed);
        for (TinyFamily f : TinyFamily.values()) {
            TinyCheckpoints.write(Options.of(f, tmp).withTowersInCheckpoint(false));
        }
        TinyCheckpoints.write(Options.of(TinyFamily.VICUNA, tmp).withDtype(WeightDtype.BF16).withName("MGM-tiny-vicuna-bf16")
                .withTowersInCheckpoint(false));
        TinyCheckpoints.write(Options.of(TinyFamily.GEMMA, tmp).withDtype(WeightDtype.BF16).withName("MGM-tiny-gemma-bf16")
                .withTowersInCheckpoint(false));
        TinyCheckpoints.write(Options.of(TinyFamily.VICUNA, tmp).withHd(true));
        Map<String, byte[]> want = new TreeMap<>();
        Map<String, byte[]> got = new TreeMap<>();
        for (String sub : List.of("model_zoo", "work_dirs")) {
            contents(committed.resolve(sub)).forEach((k, v) -> want.put(sub + "/" + k, v));
            contents(tmp.resolve(sub)).forEach((k, v) -> got.put(sub + "/" + k, v));
        }
        assertEquals(want.keySet(), got.keySet());
        for (Map.Entry<String, byte[]> e : want.entrySet()) {
            assertArrayEquals(e.getValue(), got.get(e.getKey()), e.getKey() + " differs from the committed file");
        }
    }

    @Test
    void commandLine(@TempDir Path tmp) throws IOException {
        CliRun ok = run("make-tiny", "--family", "yi", "--seed", "3", "--dtype", "bf16", "--out", tmp.toString());
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("MGM-tiny-yi"), ok.out());
        assertEquals(DType.BF16, LlmConfig.load(tmp.resolve("work_dirs/MGM/MGM-tiny-yi/config.json")).torchDtype());

        CliRun bad = run("make-tiny", "--family", "falcon", "--out", tmp.toString());
        assertEquals(2, bad.code());
        assertEquals("make-tiny: unknown family 'falcon' (vicuna, llama3, gemma, mixtral, yi)", bad.err().strip());
        bad = run("make-tiny", "--family", "vicuna", "--hd", "--shape", "tinyllama", "--out", tmp.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--hd applies to MGM sets"), bad.err());
        bad = run("make-tiny", "--family", "mixtral", "--shape", "tinyllama", "--out", tmp.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("no mixtral variant"), bad.err());
        bad = run("make-tiny", "--family", "vicuna", "--dtype", "fp8", "--out", tmp.toString());
        assertEquals(2, bad.code());
        bad = run("make-tiny", "--family", "vicuna", "--name", "../escape", "--out", tmp.toString());
        assertEquals(2, bad.code());
        bad = run("make-tiny", "--family", "vicuna");
        assertEquals(2, bad.code(), "--out is required");

        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        CliRun io = run("make-tiny", "--family", "vicuna", "--out", file.toString());
        assertEquals(3, io.code(), io.err());
        assertTrue(io.err().startsWith("make-tiny: cannot write under " + file), io.err());
        assertEquals("x", Files.readString(file), "nothing written");
    }

    @Test
    void streamedFilesHoldTheValuesOfTheirSpecs(@TempDir Path tmp) throws IOException {
        // Bigger than one chunk (1M elements) in every dtype, an I64 tensor and a scalar.
        TensorSpec big = TensorSpec.of("big", TensorSpec.Init.normal(0.5, 2), 1500, 1000);
        TensorSpec ids = TensorSpec.of("ids", TensorSpec.Init.counting(), 1, 577).asInteger();
        TensorSpec scalar = TensorSpec.of("scale", TensorSpec.Init.constant(4.6052), new long[0]);
        float[] want = new float[1_500_000];
        big.fill(42, 0, want, want.length);
        for (String dtype : List.of("F32", "BF16", "F16")) {
            Path f = tmp.resolve(dtype + ".safetensors");
            SafetensorsStream.write(f, List.of(big, ids, scalar), dtype, 42);
            try (Checkpoint c = Checkpoint.open(f)) {
                float[] got = c.tensor("big").toFloatArray();
                for (int i = 0; i < want.length; i += 997) {
                    float expect = switch (dtype) {
                        case "F32" -> want[i];
                        case "BF16" -> Float.intBitsToFloat(SafetensorsStream.toBf16(want[i]) << 16);
                        default -> Float.float16ToFloat(Float.floatToFloat16(want[i]));
                    };
                    assertEquals(expect, got[i], "element " + i + " in " + dtype);
                }
                assertEquals(DType.I64, c.info("ids").dtype());
                assertEquals(576, c.tensor("ids").getLong(0, 576));
                assertEquals(0, c.info("scale").shape().length);
            }
        }
        double mean = 0;
        double sq = 0;
        for (float v : want) {
            mean += v;
            sq += (v - 0.5) * (v - 0.5);
        }
        assertEquals(0.5, mean / want.length, 0.01, "drawn mean");
        assertEquals(2.0, Math.sqrt(sq / want.length), 0.01, "drawn std");
    }

    @Test
    void jsonFloatsAsPythonWritesThem() {
        assertEquals("1e-05", Json.pythonFloat(1e-5));
        assertEquals("1e-06", Json.pythonFloat(1e-6));
        assertEquals("10000.0", Json.pythonFloat(10000));
        assertEquals("5000000.0", Json.pythonFloat(5e6));
        assertEquals("0.02", Json.pythonFloat(0.02));
        assertEquals("0.0001", Json.pythonFloat(1e-4));
        assertEquals("1e+16", Json.pythonFloat(1e16));
        assertEquals("-2.5", Json.pythonFloat(-2.5));
        assertEquals("0.48145466", Json.pythonFloat(0.48145466));
        assertEquals("{\n  \"a\": [\n    1,\n    null\n  ],\n  \"b\": \"\\n\"\n}\n",
                Json.write(new TreeMap<>(Map.of("b", "\n", "a", java.util.Arrays.asList(1, null))), true));
    }

    @Test
    void bpeMergesTheMostFrequentPairFirst() {
        Map<List<String>, Long> pieces = new java.util.LinkedHashMap<>();
        pieces.put(List.of("▁", "t", "h", "e"), 5L);
        pieces.put(List.of("▁", "t", "o"), 3L);
        pieces.put(List.of("h", "e"), 1L);
        BpeTrainer.Result r = BpeTrainer.train(pieces, 10);
        assertArrayEquals(new String[] {"▁", "t"}, r.merges().get(0), "▁t occurs 8 times");
        assertArrayEquals(new String[] {"h", "e"}, r.merges().get(1), "he occurs 6 times");
        assertArrayEquals(new String[] {"▁t", "he"}, r.merges().get(2));
        assertArrayEquals(new String[] {"▁t", "o"}, r.merges().get(3));
        assertEquals(4, r.merges().size(), "merges stop when no pair occurs twice");
    }

    @Test
    void optionsAreValidated(@TempDir Path tmp) {
        assertThrows(IllegalArgumentException.class, () -> TinyCheckpoints.write(Options.of(TinyFamily.VICUNA, tmp)
                .withShape(TinyCheckpoints.Shape.TINYLLAMA).withHd(true)));
        assertThrows(IllegalArgumentException.class, () -> TinyCheckpoints.write(Options.of(TinyFamily.VICUNA, tmp).withName("")));
        assertThrows(IllegalArgumentException.class, () -> TinyFamily.parse("gpt2"));
        assertEquals(TinyFamily.LLAMA3, TinyFamily.parse("LLaMA3"));
    }

    static Map<String, byte[]> contents(Path root) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }
}

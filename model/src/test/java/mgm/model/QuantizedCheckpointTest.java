package mgm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import mgm.loaders.Checkpoint;
import mgm.loaders.config.LlmConfig;
import mgm.model.llm.Decoder;
import mgm.model.llm.DecoderWeights;
import mgm.model.testing.TestBackends;
import mgm.model.testing.TinyModels;
import mgm.model.testing.TinyModels.LoadedDecoder;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.TiledWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** --load-8bit/--load-4bit weights saved once and reloaded give exactly the same model. */
class QuantizedCheckpointTest {
    static final int[] IDS = {1, 395, 88, 445, 443, 85, 429, 317, 270, 263, 274, 287, 13, 2, 100, 40};

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"MGM-tiny-vicuna, Q8_0", "MGM-tiny-vicuna, Q4_0", "MGM-tiny-mixtral, Q4_0", "MGM-tiny-gemma-bf16, Q8_0"})
    void savedQuantisedWeightsReloadToIdenticalLogits(String model, WeightFormat format, @TempDir Path tmp) {
        Backend backend = TestBackends.fastest();
        Path source = TinyModels.model(model);
        Path saved = tmp.resolve("saved");
        float[][] before;
        List<Path> files;
        try (LoadedDecoder d = TinyModels.loadDecoder(source, backend, format, 16)) {
            before = d.logits(IDS);
            files = QuantizedCheckpoint.save(source, new CheckpointWeights(d.checkpoint()), d.loader(), saved);
            // the property itself: every quantised tensor is saved byte for byte
            try (Checkpoint c = Checkpoint.open(saved)) {
                assertFalse(d.loader().quantized().isEmpty());
                for (var e : d.loader().quantized().entrySet()) {
                    // (the fastest backend K-tiles and interleaves its weights; the file holds plain GGML rows)
                    try (Tensor plain = TiledWeights.plainCopy(e.getValue())) {
                        assertEquals(-1L, plain.segment().mismatch(c.tensor(e.getKey()).segment()), e.getKey() + " saved differently");
                    }
                }
            }
        }
        for (Path f : files) {
            assertTrue(Files.isRegularFile(f), f + " listed but missing");
            assertTrue(f.startsWith(saved), f + " outside the target");
        }
        for (String copied : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")) {
            assertTrue(Files.isRegularFile(saved.resolve(copied)), copied + " not copied");
        }
        try (Checkpoint c = Checkpoint.open(saved); Checkpoint original = Checkpoint.open(source)) {
            assertEquals(format, QuantizedCheckpoint.formatOf(c));
            assertEquals(original.names().stream().sorted().toList(), c.names().stream().sorted().toList(),
                    "the saved checkpoint has every tensor of the source");
            LlmConfig cfg = LlmConfig.load(source.resolve("config.json"));
            assertEquals(format.dtype(), c.info("model.layers.1.self_attn.o_proj.weight").dtype());
            assertArrayEquals(new long[] {cfg.hiddenSize(), cfg.qDim()}, c.info("model.layers.1.self_attn.o_proj.weight").shape());
            // Embeddings, lm_head, norms (and Mixtral's router) stay as stored, as bitsandbytes leaves them.
            DType stored = original.info("model.embed_tokens.weight").dtype();
            assertEquals(stored, c.info("model.embed_tokens.weight").dtype());
            assertEquals(stored, c.info("model.norm.weight").dtype());
            if (cfg.isMoe()) {
                assertEquals(stored, c.info("model.layers.0.block_sparse_moe.gate.weight").dtype());
                assertEquals(format.dtype(), c.info("model.layers.0.block_sparse_moe.experts.7.w2.weight").dtype());
            }
        }
        for (WeightFormat reloadAs : new WeightFormat[] {WeightFormat.STORED, format}) {
            try (LoadedDecoder d = TinyModels.loadDecoder(saved, backend, reloadAs, 16)) {
                float[][] after = d.logits(IDS);
                for (int i = 0; i < IDS.length; i++) {
                    assertSameLogits(before[i], after[i], model + " " + format + " reloaded as " + reloadAs + ", position " + i);
                }
            }
        }
    }

    /**
     * {@code --lm-head-8bit}: the Q8_0 head is saved as {@code lm_head.weight} (for Gemma, whose head
     * is tied to the embeddings, as an added tensor: the embedding table stays as stored) and a
     * reload without the flag uses it as saved, giving the same logits.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"MGM-tiny-vicuna, Q4_0", "MGM-tiny-gemma, Q4_0", "MGM-tiny-gemma-bf16, Q8_0", "MGM-tiny-vicuna, STORED"})
    void quantisedHeadIsSavedAndReloaded(String model, WeightFormat format, @TempDir Path tmp) {
        Backend backend = TestBackends.fastest();
        Path source = TinyModels.model(model);
        Path saved = tmp.resolve("saved");
        float[][] before;
        try (LoadedDecoder d = TinyModels.loadDecoder(source, backend, format, true, 16)) {
            before = d.logits(IDS);
            assertTrue(d.loader().quantized().containsKey(WeightLoader.LM_HEAD), "the head is listed as quantised");
            QuantizedCheckpoint.save(source, new CheckpointWeights(d.checkpoint()), d.loader(), saved);
        }
        LlmConfig cfg = LlmConfig.load(source.resolve("config.json"));
        try (Checkpoint c = Checkpoint.open(saved); Checkpoint original = Checkpoint.open(source)) {
            assertEquals(DType.Q8_0, c.info(WeightLoader.LM_HEAD).dtype());
            assertArrayEquals(new long[] {cfg.vocabSize(), cfg.hiddenSize()}, c.info(WeightLoader.LM_HEAD).shape());
            assertEquals(original.info("model.embed_tokens.weight").dtype(), c.info("model.embed_tokens.weight").dtype(),
                    "the embeddings stay as stored");
            String q = "model.layers.0.self_attn.q_proj.weight";
            assertEquals(format == WeightFormat.STORED ? original.info(q).dtype() : format.dtype(), c.info(q).dtype());
            assertEquals(original.names().size() + (original.names().contains(WeightLoader.LM_HEAD) ? 0 : 1), c.names().size());
        }
        try (LoadedDecoder d = TinyModels.loadDecoder(saved, backend, WeightFormat.STORED, 16)) {
            DType head = d.decoder().weights().lmHead().dtype();
            assertTrue(head == DType.Q8_0 || head == DType.Q8_0_R32, "reloaded head " + head);
            float[][] after = d.logits(IDS);
            for (int i = 0; i < IDS.length; i++) {
                assertSameLogits(before[i], after[i], model + " reloaded, position " + i);
            }
        }
    }

    /**
     * Equal up to the last bits of a float sum: the Vector API leaves the order of a lane reduction
     * ({@code reduceLanes(ADD)}) unspecified, and the interpreter's sequential order differs from
     * C2's tree, so the same kernel on the same bytes can round differently before and after it is
     * compiled (seen once in several runs: 4.386742 vs 4.3867426). The weights themselves are
     * compared byte for byte above.
     */
    private static void assertSameLogits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        float scale = 0;
        for (float v : want) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int j = 0; j < want.length; j++) {
            assertEquals(want[j], got[j], 1e-6f * Math.max(1f, scale), what + ", logit " + j);
        }
    }

    @Test
    void refusesAModelLoadedWithoutQuantisation(@TempDir Path tmp) {
        try (LoadedDecoder d = TinyModels.loadDecoder(TinyModels.model("MGM-tiny-vicuna"), TestBackends.fastest(),
                WeightFormat.STORED, 16)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantizedCheckpoint.save(
                    TinyModels.model("MGM-tiny-vicuna"), new CheckpointWeights(d.checkpoint()), d.loader(), tmp.resolve("x")));
            assertTrue(e.getMessage().contains("--load-8bit"), e.getMessage());
            assertFalse(Files.exists(tmp.resolve("x")), "nothing written");
        }
    }

    @Test
    void refusesANonEmptyTarget(@TempDir Path tmp) throws Exception {
        Path target = Files.createDirectories(tmp.resolve("busy"));
        Files.writeString(target.resolve("keep.txt"), "mine");
        try (LoadedDecoder d = TinyModels.loadDecoder(TinyModels.model("MGM-tiny-vicuna"), TestBackends.fastest(),
                WeightFormat.Q8_0, 16)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantizedCheckpoint.save(
                    TinyModels.model("MGM-tiny-vicuna"), new CheckpointWeights(d.checkpoint()), d.loader(), target));
            assertTrue(e.getMessage().endsWith("the folder is not empty"), e.getMessage());
            assertEquals(List.of(target.resolve("keep.txt")), Files.list(target).toList());
        }
    }

    @Test
    void loaderRecordsOnlyWhatItQuantised() {
        Path source = TinyModels.model("MGM-tiny-gemma");
        LlmConfig cfg = LlmConfig.load(source.resolve("config.json"));
        try (Checkpoint c = Checkpoint.open(source);
             WeightLoader w = new WeightLoader(new CheckpointWeights(c), TestBackends.fastest(), WeightFormat.Q8_0)) {
            DecoderWeights weights = DecoderWeights.load(cfg, w, "model.", DecoderWeights.ProgressListener.NONE);
            try (Decoder ignored = new Decoder(cfg, weights, w.backend(), 4)) {
                // 7 linear weights per dense layer; tied embeddings/lm_head and norms untouched.
                assertEquals(7 * cfg.numLayers(), w.quantized().size());
                assertFalse(w.quantized().containsKey("model.embed_tokens.weight"));
                // (in the backend's matmul layout: the fastest CPU backend interleaves Q8_0 rows on 512-bit machines)
                assertTrue(w.quantized().values().stream().allMatch(t -> t.dtype() == DType.Q8_0 || t.dtype() == DType.Q8_0_R32));
                assertTrue(weights.lmHead() == weights.embedTokens(), "the tied head is the embedding table itself");
            }
        }
        try (Checkpoint c = Checkpoint.open(source);
             WeightLoader w = new WeightLoader(new CheckpointWeights(c), TestBackends.fastest(), WeightFormat.STORED, true)) {
            DecoderWeights weights = DecoderWeights.load(cfg, w, "model.", DecoderWeights.ProgressListener.NONE);
            // --lm-head-8bit alone: only the head's Q8_0 copy; the embeddings it was tied to stay as stored
            assertEquals(java.util.Set.of(WeightLoader.LM_HEAD), w.quantized().keySet());
            assertEquals(c.info("model.embed_tokens.weight").dtype(), weights.embedTokens().dtype());
            assertTrue(weights.lmHead() != weights.embedTokens());
        }
    }
}

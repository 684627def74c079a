package mgm.loaders.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import mgm.loaders.Fixtures;
import mgm.runtime.Activation;
import mgm.runtime.DType;
import org.junit.jupiter.api.Test;

/** The published configs of the models MGM builds on, read into records. */
class ConfigSamplesTest {
    private static Path sample(String name) {
        return Fixtures.resource("configs/" + name);
    }

    @Test
    void vicuna7b() {
        LlmConfig c = LlmConfig.load(sample("vicuna-7b-v1.5.json"));
        assertEquals(LlmConfig.Family.LLAMA, c.family());
        assertEquals("LlamaForCausalLM", c.architecture());
        assertEquals(4096, c.hiddenSize());
        assertEquals(11008, c.intermediateSize());
        assertEquals(32, c.numLayers());
        assertEquals(32, c.numHeads());
        assertEquals(32, c.numKvHeads());
        assertEquals(128, c.headDim());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta(), "absent: LlamaConfig's default");
        assertNull(c.ropeScaling());
        assertEquals(4096, c.maxPositionEmbeddings());
        assertEquals(32000, c.vocabSize());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(List.of(1), c.bosTokenIds());
        assertEquals(List.of(2), c.eosTokenIds());
        assertEquals(0, c.padTokenId());
        assertEquals(DType.F16, c.torchDtype());
        assertEquals(Activation.SILU, c.activation());
        assertFalse(c.isMoe());
        assertFalse(c.isMgmArchitecture());
        assertFalse(MgmConfig.load(sample("vicuna-7b-v1.5.json")).isMultimodal());
    }

    @Test
    void llama3_8bInstruct() {
        LlmConfig c = LlmConfig.load(sample("llama-3-8b-instruct.json"));
        assertEquals(LlmConfig.Family.LLAMA, c.family());
        assertEquals(8, c.numKvHeads());
        assertEquals(4, c.groupSize());
        assertEquals(14336, c.intermediateSize());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(128256, c.vocabSize());
        assertEquals(8192, c.maxPositionEmbeddings());
        assertEquals(List.of(128000), c.bosTokenIds());
        assertEquals(List.of(128009), c.eosTokenIds());
        assertNull(c.padTokenId());
        assertEquals(DType.BF16, c.torchDtype());
    }

    @Test
    void gemma2b() {
        LlmConfig c = LlmConfig.load(sample("gemma-2b.json"));
        assertEquals(LlmConfig.Family.GEMMA, c.family());
        assertEquals(2048, c.hiddenSize());
        assertEquals(18, c.numLayers());
        assertEquals(8, c.numHeads());
        assertEquals(1, c.numKvHeads());
        assertEquals(256, c.headDim());
        assertEquals(16384, c.intermediateSize());
        assertEquals(256000, c.vocabSize());
        assertEquals(1e-6, c.rmsNormEps());
        assertTrue(c.tieWordEmbeddings(), "absent: GemmaConfig ties embeddings");
        assertEquals(List.of(2), c.bosTokenIds());
        assertEquals(List.of(1), c.eosTokenIds());
        assertEquals("gelu", c.hiddenAct());
        assertEquals(Activation.GELU_TANH, c.activation(), "no hidden_activation: transformers 4.39-4.47 use tanh GELU");
    }

    @Test
    void mixtral8x7b() {
        LlmConfig c = LlmConfig.load(sample("mixtral-8x7b-instruct-v0.1.json"));
        assertEquals(LlmConfig.Family.MIXTRAL, c.family());
        assertTrue(c.isMoe());
        assertEquals(8, c.numExperts());
        assertEquals(2, c.numExpertsPerTok());
        assertNull(c.slidingWindow());
        assertEquals(1e6, c.ropeTheta());
        assertEquals(32768, c.maxPositionEmbeddings());
        assertEquals(8, c.numKvHeads());
    }

    @Test
    void yi34b() {
        LlmConfig c = LlmConfig.load(sample("yi-34b.json"));
        assertEquals(LlmConfig.Family.LLAMA, c.family());
        assertEquals(7168, c.hiddenSize());
        assertEquals(60, c.numLayers());
        assertEquals(56, c.numHeads());
        assertEquals(8, c.numKvHeads());
        assertEquals(128, c.headDim());
        assertEquals(20480, c.intermediateSize());
        assertEquals(5e6, c.ropeTheta());
        assertEquals(64000, c.vocabSize());
    }

    @Test
    void mgm7bHd() {
        MgmConfig m = MgmConfig.load(sample("mgm-7b-hd.json"));
        assertTrue(m.isMultimodal());
        assertTrue(m.hasAuxTower());
        assertTrue(m.llm().isMgmArchitecture());
        assertEquals(LlmConfig.Family.LLAMA, m.llm().family());
        assertEquals("mgm", m.llm().modelType());
        assertEquals("model_zoo/OpenAI/clip-vit-large-patch14-336", m.mmVisionTower());
        assertEquals("model_zoo/OpenAI/openclip-convnext-large-d-320-laion2B-s29B-b131K-ft-soup", m.mmVisionTowerAux());
        assertEquals(1024, m.mmHiddenSize());
        assertEquals(2880, m.mmHiddenSizeAux());
        assertEquals("mlp2x_gelu", m.mmProjectorType());
        assertEquals(2, m.projectorMlpDepth());
        assertEquals(-2, m.mmVisionSelectLayer());
        assertEquals("patch", m.mmVisionSelectFeature());
        assertEquals(1536, m.imageSizeAux());
        assertEquals(2, m.imageGrid());
        assertTrue(m.imageGlobal());
        assertEquals("pad", m.imageAspectRatio());
        assertEquals(List.of(), m.imageGridPinpoints());
        assertFalse(m.optimizeVisionTowerAux());
        assertFalse(m.mmUseImStartEnd());
        assertNull(m.mmProjectorLr());
        assertEquals("right", m.tokenizerPaddingSide());
        assertEquals(4096, m.tokenizerModelMaxLength());
        assertTrue(m.useCache());
    }

    @Test
    void mgm2b() {
        MgmConfig m = MgmConfig.load(sample("mgm-2b.json"));
        assertEquals(LlmConfig.Family.GEMMA, m.llm().family());
        assertEquals("MGMGemmaForCausalLM", m.llm().architecture());
        assertEquals(768, m.imageSizeAux());
        assertEquals(1, m.imageGrid());
        assertFalse(m.imageGlobal());
        assertEquals(2048, m.tokenizerModelMaxLength());
    }

    @Test
    void clipVitL14_336() {
        ClipVisionConfig c = ClipVisionConfig.load(sample("clip-vit-large-patch14-336.json"));
        assertEquals(1024, c.hiddenSize());
        assertEquals(4096, c.intermediateSize());
        assertEquals(24, c.numLayers());
        assertEquals(16, c.numHeads());
        assertEquals(64, c.headDim());
        assertEquals(336, c.imageSize());
        assertEquals(14, c.patchSize());
        assertEquals(24, c.gridSize());
        assertEquals(576, c.numPatches());
        assertEquals(3, c.numChannels());
        assertEquals(1e-5, c.layerNormEps());
        assertEquals(Activation.QUICK_GELU, c.activation());
        assertEquals(768, c.projectionDim());
    }

    @Test
    void openClipConvnextLargeD320() {
        OpenClipConfig c = OpenClipConfig.load(sample("open_clip_config-convnext_large_d_320.json"));
        assertEquals("convnext_large", c.timmModelName());
        assertEquals(List.of(192, 384, 768, 1536), c.stageDims());
        assertEquals(List.of(3, 3, 27, 3), c.stageDepths());
        assertEquals(2880, c.concatenatedDim());
        assertEquals(320, c.imageSize());
        assertEquals(768, c.embedDim());
        assertEquals("", c.timmPool());
        assertEquals("mlp", c.timmProj());
        assertEquals(0.1, c.timmDropPath());
        assertEquals(OpenClipConfig.OPENAI_MEAN, c.mean());
        assertEquals(OpenClipConfig.OPENAI_STD, c.std());
    }
}

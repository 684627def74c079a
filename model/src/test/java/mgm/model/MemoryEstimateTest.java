package mgm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import mgm.loaders.config.LlmConfig;
import mgm.loaders.config.MgmConfig;
import mgm.model.testing.TinyModels;
import mgm.runtime.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The weight part of the estimate with lm_head as stored and as Q8_0 ({@code --lm-head-8bit}). */
class MemoryEstimateTest {
    @ParameterizedTest
    @ValueSource(strings = {"MGM-tiny-vicuna", "MGM-tiny-gemma"})
    void quantisedHeadReplacesAnUntiedHeadAndAddsToATiedOne(String model) {
        MgmConfig config = MgmConfig.load(TinyModels.model(model));
        LlmConfig c = config.llm();
        assertEquals(model.contains("gemma"), c.tieWordEmbeddings(), "one tied and one untied head");
        long head = (long) c.vocabSize() * c.hiddenSize();
        DType stored = c.torchDtype() != null ? c.torchDtype() : DType.BF16;
        for (WeightFormat format : WeightFormat.values()) {
            MemoryEstimate asStored = MemoryEstimate.of(config, null, format, 64, DType.F16, 16);
            MemoryEstimate q8 = MemoryEstimate.of(config, null, format, true, 64, DType.F16, 16);
            long change = DType.Q8_0.byteSize(head) - (c.tieWordEmbeddings() ? 0 : stored.byteSize(head));
            assertEquals(asStored.weightBytes() + change, q8.weightBytes(), model + " " + format);
            assertEquals(asStored.kvCacheBytes(), q8.kvCacheBytes());
        }
    }
}

package mgm.model.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import mgm.loaders.image.ImageDecoder;
import mgm.loaders.image.ImageException;
import mgm.loaders.image.MgmImageProcessor;
import mgm.loaders.image.RgbImage;
import mgm.model.MgmModel;
import mgm.model.llm.KvCache;
import mgm.model.testing.Compare;
import mgm.model.testing.Npz;
import mgm.model.testing.StageCheck;
import mgm.model.testing.TestBackends;
import mgm.model.testing.TinyModels;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole MGM pipeline on chelsea.png, stage by stage, against the independent PyTorch reference
 * (src/test/python/reference_mgm.py; fixtures from fixtures/mgm/make_fixtures.py): preprocessing
 * (high-res and low-res inputs), CLIP layer -2 features, the concatenated ConvNeXt map, mining
 * output, projector output, and the logits of every position after splicing, then the greedy
 * continuation (decode steps after the image). Each stage runs on our previous stage's output, so
 * errors would compound. The model is loaded as users load it ({@link MgmModel}: towers resolved
 * from config.json's relative paths, in-checkpoint tower copies preferred).
 */
class MgmPipelineReferenceTest {
    /** The per-stage bound for F32 weights: max |diff| / max |ref| over the stage. */
    static final double F32_TOLERANCE = 1e-4;

    static final List<String> MODELS = List.of("MGM-tiny-vicuna", "MGM-tiny-gemma", "MGM-tiny-mixtral",
            "MGM-tiny-vicuna-hd", "MGM-tiny-gemma-bf16");

    /**
     * Every model on the fastest backend; the scalar reference backend (slow: ~40 s for all five)
     * runs them all only when it is the only backend, otherwise one normal case.
     */
    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Backend b : TestBackends.all()) {
            boolean all = b == TestBackends.fastest();
            for (String m : all ? MODELS : List.of("MGM-tiny-vicuna")) {
                out.add(Arguments.of(m, b));
            }
        }
        return out.stream();
    }

    static Npz stage(String model, String stage) {
        return Npz.read(TinyModels.fixture("mgm/" + model + "/" + stage + ".npz"));
    }

    @ParameterizedTest(name = "{0} on {1}", autoCloseArguments = false)
    @MethodSource("cases")
    void everyStageMatchesTheReference(String model, Backend backend) throws IOException {
        JsonNode prompt = new ObjectMapper().readTree(TinyModels.fixture("mgm/" + model + "/prompt.json").toFile());
        int[] ids = new ObjectMapper().treeToValue(prompt.get("ids"), int[].class);
        StringBuilder report = new StringBuilder(model + " " + backend.name() + ":");
        MgmModel.Options options = MgmModel.Options.defaults(TinyModels.model(model), backend);
        try (MgmModel m = MgmModel.load(options);
             MgmImageProcessor.Output in = m.imageProcessor().process(image("images/chelsea.png"))) {
            // The Java tokenizer on the generated tokenizer.json, with MGM's image-marker rule, gives the
            // reference's ids (tiny_tokenizer.py, an independent encoder).
            assertArrayEquals(ids, m.tokenize(prompt.get("text").asText()), model + ": prompt ids");
            VisionEncoder encoder = m.visionEncoder();
            int a = m.config().imageSizeAux();
            Tensor hr = in.highRes().reshape(1, 3, a, a);
            report.append(check("hr", model, channelsLast(backend, in.highRes().reshape(1, 3, a, a))));
            report.append(check("lr", model, channelsLast(backend, in.lowRes())));
            long t0 = System.nanoTime();
            try (Tensor clip = encoder.clip().encode(in.lowRes()); Tensor map = encoder.convNext().encode(hr)) {
                long t1 = System.nanoTime();
                report.append(check("clip", model, TestBackends.read(backend, clip)));
                assertEquals(m.config().mmHiddenSizeAux(), map.dim(2), "ConvNeXt width vs mm_hidden_size_aux");
                report.append(check("convnext", model, TestBackends.read(backend, map)));
                try (Tensor mined = encoder.mine(clip, map);
                     Tensor projected = encoder.project(mined);
                     Tensor embeds = m.embed(ids, List.of(projected))) {
                    long t2 = System.nanoTime();
                    report.append(check("mined", model, TestBackends.read(backend, mined)));
                    report.append(check("projected", model, TestBackends.read(backend, projected)));
                    assertEquals(prompt.get("image_tokens").asInt(), projected.dim(0), "visual tokens");
                    int vocab = m.config().llm().vocabSize();
                    int length = (int) embeds.dim(0);
                    float[] logits = new float[length * vocab];
                    int[] want = new ObjectMapper().treeToValue(prompt.get("greedy"), int[].class);
                    int[] got = new int[want.length];
                    try (KvCache cache = m.decoder().newCache(length + want.length, DType.F32)) {
                        Tensor last = m.decoder().prefill(cache, embeds, (l, first) -> {
                            float[] v = TestBackends.read(backend, l);
                            System.arraycopy(v, 0, logits, first * vocab, v.length);
                        });
                        // Greedy continuation: each generated token is embedded and decoded after the image.
                        for (int i = 0; i < got.length; i++) {
                            got[i] = Compare.argmax(TestBackends.read(backend, last));
                            if (i + 1 < got.length) {
                                last = m.decoder().decode(cache, got[i]);
                            }
                        }
                    }
                    long t3 = System.nanoTime();
                    assertArrayEquals(want, got, model + ": greedy continuation after the image");
                    report.append(check("logits", model, logits));
                    if (model.endsWith("-bf16")) {
                        // Information only: HF runs this decoder in BF16, whose rounding alone moves the logits.
                        double d = StageCheck.check("logits vs HF-bf16", stage(model, "logits_hf_bf16"), logits, 1.0);
                        report.append(String.format(" [vs HF-bf16 decoder %.1e]", d));
                    }
                    report.append(String.format(" (towers %.1f s, mining+projector %.1f s, decoder %.1f s)",
                            (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9));
                }
            }
        }
        System.out.println(report);
    }

    private static String check(String stage, String model, float[] ours) {
        double rel = StageCheck.check(model + " " + stage, stage(model, stage), ours, F32_TOLERANCE);
        assertTrue(rel <= F32_TOLERANCE);
        return String.format(" %s %.1e", stage, rel);
    }

    static RgbImage image(String resource) {
        try {
            return new ImageDecoder().decode(TinyModels.resource(resource));
        } catch (ImageException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** [n, C, H, W] -> row-major [n*H*W, C], the fixtures' layout. */
    private static float[] channelsLast(Backend backend, Tensor nchw) {
        return TestBackends.onHost(backend, nchw, host -> host.permute(0, 2, 3, 1).toFloatArray());
    }
}

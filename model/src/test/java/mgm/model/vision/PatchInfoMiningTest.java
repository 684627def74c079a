package mgm.model.vision;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import mgm.model.MapWeights;
import mgm.model.WeightFormat;
import mgm.model.WeightLoader;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** The folded mining form must equal the direct (reference-shaped) form. */
class PatchInfoMiningTest {
    private static final int DIM = 16;
    private static final int AUX = 24;

    @Test
    void foldedFormEqualsDirectForm() {
        Random r = new Random(11);
        Map<String, Tensor> w = new HashMap<>();
        for (String p : new String[] {"vlm_uni_query_projector.", "vlm_uni_aux_projector.", "vlm_uni_val_projector."}) {
            int in = p.startsWith("vlm_uni_query") ? DIM : AUX;
            w.put("model." + p + "0.weight", random(r, 1.0, 0.3, in));
            w.put("model." + p + "0.bias", random(r, 0.0, 0.3, in));
            w.put("model." + p + "1.weight", random(r, 0.0, 0.5, DIM, in));
            w.put("model." + p + "1.bias", random(r, 0.0, 0.3, DIM));
        }
        ReferenceBackend backend = new ReferenceBackend();
        try (WeightLoader loader = new WeightLoader(new MapWeights(w), backend, WeightFormat.STORED)) {
            PatchInfoMining mining = new PatchInfoMining(loader, "model.", DIM, AUX);
            // 3x3 tokens over a 12x12 map: 4x4 windows; a quadrant-style strided view too.
            Tensor features = random(r, 0.0, 1.0, 9, DIM);
            Tensor big = random(r, 0.5, 2.0, 24, 12, AUX);
            for (Tensor raw : new Tensor[] {big.slice(0, 0, 12), big.slice(0, 12, 24)}) {
                Tensor direct = mining.mineDirect(features, raw);
                Tensor normalized = Tensor.allocate(DType.F32, 12, 12, AUX);
                backend.copy(raw, normalized);
                mining.normalizeMap(normalized);
                Tensor folded = mining.mine(features, normalized);
                float[] a = direct.toFloatArray();
                float[] b = folded.toFloatArray();
                double worst = 0;
                double scale = 0;
                for (int i = 0; i < a.length; i++) {
                    worst = Math.max(worst, Math.abs(a[i] - b[i]));
                    scale = Math.max(scale, Math.abs(a[i]));
                }
                assertTrue(worst / scale < 1e-5, "folded vs direct: max diff " + worst + " (scale " + scale + ")");
            }
        }
    }

    private static Tensor random(Random r, double mean, double std, long... shape) {
        float[] v = new float[(int) Tensor.product(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (mean + std * r.nextGaussian());
        }
        return Tensor.of(v, shape);
    }
}

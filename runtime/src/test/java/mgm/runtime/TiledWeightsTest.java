package mgm.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.Random;

import mgm.runtime.cpu.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** K tiles: how many for the widths of the supported models, where each element lands, exact round trips. */
class TiledWeightsTest {

    @Test
    void tileCountsForTheModelWidths() {
        // hidden and FFN widths of TinyLlama, Gemma-2B, LLaMA-2-7B/13B, LLaMA-3-8B, Mixtral, Yi-34B, CLIP/ConvNeXt
        long[][] kt = {{2048, 1}, {2816, 1}, {5632, 2}, {4096, 2}, {11008, 4}, {5120, 2}, {13824, 6}, {14336, 7},
                {16384, 8}, {7168, 4}, {20480, 8}, {1024, 1}, {4000, 1}};
        for (long[] c : kt) {
            assertEquals(c[1], TiledWeights.tilesFor(c[0]), "K = " + c[0]);
            if (c[1] > 1) {
                long tile = c[0] / c[1];
                assertTrue(tile % TiledWeights.TILE_QUANTUM == 0 && tile <= TiledWeights.MAX_TILE, "tile of K = " + c[0]);
            }
        }
    }

    @Test
    void everyElementLandsInItsTileAndComesBackExactly() {
        for (DType t : new DType[] {DType.F32, DType.BF16, DType.F16, DType.Q8_0, DType.Q4_0}) {
            try (Tensor w = weight(t, 5, 384, 1); Tensor tiled = TiledWeights.tile(w, 3); Tensor back = TiledWeights.untile(tiled)) {
                assertArrayEquals(new long[] {3, 5, 128}, tiled.shape());
                assertArrayEquals(new long[] {5, 384}, TiledWeights.plainShape(tiled));
                if (!t.isQuantized()) {
                    for (int n = 0; n < 5; n++) {
                        for (int k = 0; k < 384; k++) {
                            assertEquals(w.getFloat(n, k), tiled.getFloat(k / 128, n, k % 128), t + " [" + n + ", " + k + "]");
                        }
                    }
                }
                assertArrayEquals(bytes(w), bytes(back), t + " round trip");
            }
        }
    }

    @Test
    void refusesWhatItCannotSplit() {
        try (Tensor w = weight(DType.Q8_0, 4, 96, 2)) {
            var e = assertThrows(IllegalArgumentException.class, () -> TiledWeights.tile(w, 2)); // 48 is not whole blocks
            assertTrue(e.getMessage().contains("cannot be split into 2 K tiles"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> TiledWeights.untile(w));
        }
    }

    /** A [rows, cols] weight of Gaussian values in dtype t (quantised types through the reference quantisers). */
    static Tensor weight(DType t, int rows, int cols, long seed) {
        Random r = new Random(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        Tensor q = Tensor.allocate(t, rows, cols);
        try (Tensor f = Tensor.of(v, rows, cols)) {
            new ReferenceBackend().copy(f, q);
        }
        return q;
    }

    private static byte[] bytes(Tensor t) {
        return t.segment().toArray(ValueLayout.JAVA_BYTE);
    }
}

package mgm.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import mgm.runtime.DType;
import mgm.runtime.InterleavedQuant;
import mgm.runtime.Tensor;
import mgm.runtime.TiledWeights;

/** Which K tiling prepareLinear gives each weight dtype by default (see {@link TiledWeights#MAX_FLOAT_TILE}). */
class CpuBackendTilingTest {

    @Test
    void floatWeightsTakeTheShorterTilesWhereOneFits() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            for (DType t : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                assertArrayEquals(new long[] {4, 64, 1408}, prepared(cpu, t, 64, 5632), t + ", K = 5632 (a TinyLlama down projection)");
                assertArrayEquals(new long[] {2, 64, 2048}, prepared(cpu, t, 64, 4096), t + ", K = 4096");
                assertArrayEquals(new long[] {64, 2048}, prepared(cpu, t, 64, 2048), t + ", K = 2048 stays whole");
                // 11008 = 172 * 64 has no tiling into tiles of at most 2048 that are multiples of 64: the longer bound's four tiles
                assertArrayEquals(new long[] {4, 64, 2752}, prepared(cpu, t, 64, 11008), t + ", K = 11008 (a LLaMA-2-7B down projection)");
            }
        }
    }

    @Test
    void quantisedWeightsKeepTheLongerTiles() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            for (DType t : new DType[] {DType.Q8_0, DType.Q4_0}) {
                assertArrayEquals(new long[] {2, 64, 2816}, prepared(cpu, t, 64, 5632), t + ", K = 5632");
            }
        }
    }

    @Test
    void anExplicitBoundAppliesToEveryDtype() {
        try (CpuBackend cpu = new CpuBackend(1, 2816, TiledWeights.TILE_QUANTUM)) {
            assertArrayEquals(new long[] {2, 64, 2816}, prepared(cpu, DType.BF16, 64, 5632));
        }
    }

    /** The shape prepareLinear gives a {@code [n, k]} weight of dtype t (interleaving keeps the shape). */
    private static long[] prepared(CpuBackend cpu, DType t, int n, int k) {
        try (Tensor w = Tensor.allocate(t, n, k); Tensor p = cpu.prepareLinear(w)) {
            if (p.dtype() != t) {
                assertEquals(InterleavedQuant.interleaved(t), p.dtype());
            }
            return p.shape();
        }
    }
}

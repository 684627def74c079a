package mgm.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import mgm.runtime.cpu.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** The 32-row interleaved Q4_0 layout: where every scale and quant byte lands, exact round trips, what it refuses. */
class InterleavedQ4Test {
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void everyByteLandsWhereTheLayoutSays() {
        int rows = 64, cols = 96; // 2 groups, 3 blocks (odd)
        try (Tensor w = q4(rows, cols, 1); Tensor x = InterleavedQ4.interleave(w)) {
            assertEquals(DType.Q4_0_R32, x.dtype());
            assertArrayEquals(w.shape(), x.shape());
            MemorySegment g = w.segment(), i = x.segment();
            int blocks = cols / 32;
            for (int r = 0; r < rows; r++) {
                int group = r / 32, lane = InterleavedQ4.lane(r % 32);
                for (int b = 0; b < blocks; b++) {
                    long src = (r * blocks + b) * 18L;
                    long dst = (long) group * blocks * InterleavedQ4.BLOCK_BYTES + (long) b * InterleavedQ4.BLOCK_BYTES;
                    assertEquals(g.get(F16, src), i.get(F16, dst + 2L * lane), "scale of row " + r + " block " + b);
                    for (int j = 0; j < 16; j++) {
                        assertEquals(g.get(ValueLayout.JAVA_BYTE, src + 2 + j), i.get(ValueLayout.JAVA_BYTE, dst + 64 + 32L * j + lane),
                                "quant byte " + j + " of row " + r + " block " + b);
                    }
                }
            }
        }
    }

    @Test
    void lanesPutRowIAndRowIPlus16InOne32BitLane() {
        for (int r = 0; r < 16; r++) {
            assertEquals(2 * r, InterleavedQ4.lane(r));
            assertEquals(2 * r + 1, InterleavedQ4.lane(r + 16));
        }
    }

    @Test
    void roundTripsExactlyPlainAndKTiled() {
        try (Tensor w = q4(96, 384, 2); Tensor x = InterleavedQ4.interleave(w); Tensor back = InterleavedQ4.deinterleave(x);
             Tensor plain = TiledWeights.plainCopy(x)) {
            assertArrayEquals(bytes(w), bytes(back));
            assertArrayEquals(bytes(w), bytes(plain));
        }
        try (Tensor w = q4(64, 384, 3); Tensor tiled = TiledWeights.tile(w, 3); Tensor x = InterleavedQ4.interleave(tiled);
             Tensor plain = TiledWeights.plainCopy(x)) {
            assertArrayEquals(new long[] {3, 64, 128}, x.shape());
            assertArrayEquals(bytes(w), bytes(plain), "tiled and interleaved, back to plain rows");
        }
    }

    @Test
    void refusesWhatItCannotInterleave() {
        try (Tensor w = q4(48, 64, 4)) { // 48 rows: not whole groups
            assertFalse(InterleavedQ4.canInterleave(w));
            var e = assertThrows(IllegalArgumentException.class, () -> InterleavedQ4.interleave(w));
            assertTrue(e.getMessage().contains("multiple of 32 rows"), e.getMessage());
        }
        try (Tensor w = q4(32, 64, 5)) { // an Inf scale: the kernels' register conversion is exact only for finite halves
            assertTrue(InterleavedQ4.canInterleave(w));
            w.segment().set(F16, 18L * 3, (short) 0x7C00);
            assertFalse(InterleavedQ4.canInterleave(w));
        }
        try (Tensor w = Tensor.allocate(DType.Q8_0, 32, 64)) {
            assertFalse(InterleavedQ4.canInterleave(w));
        }
        try (Tensor w = q4(32, 64, 6); Tensor x = InterleavedQ4.interleave(w)) {
            var e = assertThrows(IllegalStateException.class, () -> x.getFloat(0, 0));
            assertTrue(e.getMessage().contains("matmul layout"), e.getMessage());
        }
    }

    private static Tensor q4(int rows, int cols, long seed) {
        Random r = new Random(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        Tensor q = Tensor.allocate(DType.Q4_0, rows, cols);
        try (Tensor f = Tensor.of(v, rows, cols)) {
            new ReferenceBackend().copy(f, q);
        }
        return q;
    }

    private static byte[] bytes(Tensor t) {
        return t.segment().toArray(ValueLayout.JAVA_BYTE);
    }
}

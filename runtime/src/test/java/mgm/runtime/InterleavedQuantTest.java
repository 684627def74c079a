package mgm.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

/** The 32-row interleaved Q8_0 / Q4_0 layouts: where every scale and quant byte lands, exact round trips, what they refuse. */
class InterleavedQuantTest {
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final DType[] PLAIN = {DType.Q8_0, DType.Q4_0};

    @Test
    void everyByteLandsWhereTheLayoutSays() {
        int rows = 64, cols = 96; // 2 groups, 3 blocks (odd)
        for (DType t : PLAIN) {
            try (Tensor w = quantised(t, rows, cols, 1); Tensor x = InterleavedQuant.interleave(w)) {
                assertEquals(InterleavedQuant.interleaved(t), x.dtype());
                assertArrayEquals(w.shape(), x.shape());
                MemorySegment g = w.segment(), i = x.segment();
                int blocks = cols / 32, bb = t.blockBytes(), groupBlock = InterleavedQuant.blockBytes(t);
                for (int r = 0; r < rows; r++) {
                    int scale = InterleavedQuant.q4Lane(r % 32);
                    int lane = t == DType.Q4_0 ? scale : r % 32;
                    for (int b = 0; b < blocks; b++) {
                        long src = ((long) r * blocks + b) * bb;
                        long dst = (long) (r / 32) * blocks * groupBlock + (long) b * groupBlock;
                        assertEquals(g.get(F16, src), i.get(F16, dst + 2L * scale), t + " scale of row " + r + " block " + b);
                        for (int j = 0; j < bb - 2; j++) {
                            assertEquals(g.get(ValueLayout.JAVA_BYTE, src + 2 + j), i.get(ValueLayout.JAVA_BYTE, dst + 64 + 32L * j + lane),
                                    t + " quant byte " + j + " of row " + r + " block " + b);
                        }
                    }
                }
            }
        }
    }

    @Test
    void q4LanesPutRowIAndRowIPlus16InOne32BitLane() {
        for (int r = 0; r < 16; r++) {
            assertEquals(2 * r, InterleavedQuant.q4Lane(r));
            assertEquals(2 * r + 1, InterleavedQuant.q4Lane(r + 16));
        }
    }

    @Test
    void roundTripsExactlyPlainAndKTiled() {
        for (DType t : PLAIN) {
            try (Tensor w = quantised(t, 96, 384, 2); Tensor x = InterleavedQuant.interleave(w); Tensor back = InterleavedQuant.deinterleave(x);
                 Tensor plain = TiledWeights.plainCopy(x)) {
                assertArrayEquals(bytes(w), bytes(back), t + " round trip");
                assertArrayEquals(bytes(w), bytes(plain), t + " plain copy");
            }
            try (Tensor w = quantised(t, 64, 384, 3); Tensor tiled = TiledWeights.tile(w, 3); Tensor x = InterleavedQuant.interleave(tiled);
                 Tensor plain = TiledWeights.plainCopy(x)) {
                assertArrayEquals(new long[] {3, 64, 128}, x.shape());
                assertArrayEquals(bytes(w), bytes(plain), t + " tiled and interleaved, back to plain rows");
            }
        }
    }

    @Test
    void viewsThatStartInsideTheirStorageConvertTheirOwnBytes() {
        // e.g. a packed decoder layer (WeightLoader.packed): a weight a few blocks into a shared allocation
        for (DType t : PLAIN) {
            long at = 3L * t.blockBytes();
            try (Tensor w = quantised(t, 64, 96, 7); Tensor x = InterleavedQuant.interleave(w);
                 Tensor shared = Tensor.allocate(DType.I8, at + w.byteSize() + at + x.byteSize())) {
                MemorySegment.copy(w.segment(), 0, shared.segment(), at, w.byteSize());
                MemorySegment.copy(x.segment(), 0, shared.segment(), at + w.byteSize() + at, x.byteSize());
                Tensor wView = Tensor.wrap(shared.storage(), at, t, false, 64, 96);
                Tensor xView = Tensor.wrap(shared.storage(), at + w.byteSize() + at, x.dtype(), false, 64, 96);
                assertTrue(wView.byteOffset() > 0 && xView.byteOffset() > 0, "the views start inside the storage");
                assertTrue(InterleavedQuant.canInterleave(wView));
                try (Tensor fromView = InterleavedQuant.interleave(wView); Tensor back = InterleavedQuant.deinterleave(xView);
                     Tensor plain = TiledWeights.plainCopy(xView); Tensor copy = TiledWeights.plainCopy(wView)) {
                    assertArrayEquals(bytes(x), bytes(fromView), t + " interleaved from a view");
                    assertArrayEquals(bytes(w), bytes(back), t + " de-interleaved from a view");
                    assertArrayEquals(bytes(w), bytes(plain), t + " plain copy of an interleaved view");
                    assertArrayEquals(bytes(w), bytes(copy), t + " plain copy of a plain view");
                }
                shared.segment().set(F16, at + (long) t.blockBytes() * 5, (short) 0x7C00);  // an Inf scale in the view's own blocks
                assertFalse(InterleavedQuant.canInterleave(wView));
            }
        }
    }

    @Test
    void refusesWhatItCannotInterleave() {
        for (DType t : PLAIN) {
            try (Tensor w = quantised(t, 48, 64, 4)) { // 48 rows: not whole groups
                assertFalse(InterleavedQuant.canInterleave(w));
                var e = assertThrows(IllegalArgumentException.class, () -> InterleavedQuant.interleave(w));
                assertTrue(e.getMessage().contains("multiple of 32 rows"), e.getMessage());
            }
            try (Tensor w = quantised(t, 32, 64, 5)) { // an Inf scale: the kernels' register conversion is exact only for finite halves
                assertTrue(InterleavedQuant.canInterleave(w));
                w.segment().set(F16, (long) t.blockBytes() * 3, (short) 0x7C00);
                assertFalse(InterleavedQuant.canInterleave(w));
            }
            try (Tensor w = quantised(t, 32, 64, 6); Tensor x = InterleavedQuant.interleave(w)) {
                var e = assertThrows(IllegalStateException.class, () -> x.getFloat(0, 0));
                assertTrue(e.getMessage().contains("matmul layout"), e.getMessage());
            }
        }
        try (Tensor w = Tensor.allocate(DType.BF16, 32, 64)) {
            assertFalse(InterleavedQuant.canInterleave(w));
        }
    }

    private static Tensor quantised(DType t, int rows, int cols, long seed) {
        return TiledWeightsTest.weight(t, rows, cols, seed);
    }

    private static byte[] bytes(Tensor t) {
        return t.segment().toArray(ValueLayout.JAVA_BYTE);
    }
}

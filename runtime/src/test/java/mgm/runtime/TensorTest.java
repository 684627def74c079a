package mgm.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

/** Views share storage and index correctly; bad views and dead tensors fail with clear messages. */
class TensorTest {

    private static Tensor iota(long... shape) {
        float[] v = new float[(int) Tensor.product(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return Tensor.of(v, shape);
    }

    @Test
    void viewsIndexTheSameStorage() {
        Tensor t = iota(2, 3, 4);
        assertEquals(23f, t.getFloat(1, 2, 3));
        Tensor s = t.slice(2, 1, 3);
        assertArrayEquals(new long[] {2, 3, 2}, s.shape());
        assertFalse(s.isContiguous());
        assertEquals(t.getFloat(1, 2, 2), s.getFloat(1, 2, 1));
        Tensor sel = t.select(0, 1);
        assertArrayEquals(new long[] {3, 4}, sel.shape());
        assertEquals(12f, sel.getFloat(0, 0));
        Tensor tr = t.transpose(0, 2);
        assertEquals(t.getFloat(1, 2, 3), tr.getFloat(3, 2, 1));
        Tensor p = t.permute(1, 2, 0);
        assertEquals(t.getFloat(1, 0, 3), p.getFloat(0, 3, 1));
        Tensor r = t.reshape(6, -1);
        assertArrayEquals(new long[] {6, 4}, r.shape());
        assertEquals(t.getFloat(1, 1, 2), r.getFloat(4, 2));
        Tensor u = t.unsqueeze(1);
        assertArrayEquals(new long[] {2, 1, 3, 4}, u.shape());
        Tensor b = Tensor.of(new float[] {1, 2, 3}, 3, 1).broadcastTo(2, 3, 4);
        assertEquals(3f, b.getFloat(1, 2, 3));
        assertEquals(0, b.stride(0));
        // writes through a view are visible in the base
        s.setFloat(-1f, 0, 0, 0);
        assertEquals(-1f, t.getFloat(0, 0, 1));
        assertArrayEquals(new float[] {-1f, 2f, 5f, 6f, 9f, 10f}, t.select(0, 0).slice(1, 1, 3).toFloatArray());
    }

    @Test
    void badViewsAreRejectedWithTheShape() {
        Tensor t = iota(2, 3, 4);
        IndexOutOfBoundsException slice = assertThrows(IndexOutOfBoundsException.class, () -> t.slice(1, 2, 4));
        assertTrue(slice.getMessage().contains("[2, 3, 4]"), slice.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> t.select(0, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> t.dim(3));
        IllegalArgumentException reshape = assertThrows(IllegalArgumentException.class, () -> t.transpose(0, 1).reshape(24));
        assertTrue(reshape.getMessage().contains("not contiguous"), reshape.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.reshape(5, 5));
        assertThrows(IllegalArgumentException.class, () -> t.permute(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> t.broadcastTo(3, 3, 4));
        assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.F32, 2, -1));
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(2, 0, 0));
    }

    @Test
    void quantisedViewsKeepWholeBlocks() {
        Tensor q = Tensor.allocate(DType.Q8_0, 4, 64);
        assertEquals(4 * 2 * 34, q.byteSize());
        Tensor rows = q.slice(0, 1, 3);
        assertEquals(34 * 2, rows.byteOffset());
        Tensor blocks = q.slice(1, 32, 64);
        assertEquals(34, blocks.byteOffset());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.slice(1, 3, 35));
        assertTrue(e.getMessage().contains("whole blocks"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> q.transpose(0, 1));
        assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.Q4_0, 3, 33));
    }

    @Test
    void closedTensorsFailClearly() {
        Tensor t = iota(2, 2);
        Tensor view = t.slice(0, 0, 1);
        assertTrue(t.ownsStorage());
        assertFalse(view.ownsStorage());
        t.close();
        assertFalse(view.isAlive());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> view.getFloat(0, 0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, view::segment);
        t.close(); // closing twice is harmless
    }

    @Test
    void wrapChecksBoundsAndDoesNotOwn() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(64);
            Tensor w = Tensor.wrap(seg, DType.F32, 4, 4);
            assertFalse(w.ownsStorage());
            w.setFloat(3f, 1, 1);
            assertEquals(3f, w.getFloat(1, 1));
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(seg, DType.F32, 5, 4));
            Tensor unaligned = Tensor.wrap(Storage.wrapHost(seg), 2, DType.BF16, false, 3);
            assertEquals(3, unaligned.numel());
            w.close();
            assertTrue(seg.scope().isAlive()); // the arena owns it
        }
    }

    @Test
    void conversionsRoundLikeTorch() {
        Tensor b = Tensor.allocate(DType.BF16, 3);
        b.setFloat(1.00390625f, 0);   // exactly halfway between bf16 1.0 and 1.0078125: ties to even -> 1.0
        b.setFloat(1.01171875f, 1);   // halfway between 1.0078125 and 1.015625: to even -> 1.015625
        b.setFloat(Float.NaN, 2);
        assertEquals(1.0f, b.getFloat(0));
        assertEquals(1.015625f, b.getFloat(1));
        assertTrue(Float.isNaN(b.getFloat(2)));
        Tensor h = Tensor.allocate(DType.F16, 2);
        h.setFloat(65520f, 0);        // rounds to +inf in fp16
        h.setFloat(5.9604645e-8f, 1); // smallest fp16 subnormal
        assertEquals(Float.POSITIVE_INFINITY, h.getFloat(0));
        assertEquals(5.9604645e-8f, h.getFloat(1));
    }
}

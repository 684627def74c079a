package mgm.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import mgm.runtime.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/**
 * Q8_0 / Q4_0 bit-exactness against an independent numpy implementation of GGML's
 * quantize_row_q8_0_ref / quantize_row_q4_0_ref (src/test/resources/quant/make_quant_fixtures.py):
 * 32 blocks including zero blocks, |max| ties, exact .5 ties, tiny and huge scales.
 */
class QuantFixtureTest {

    @Test
    void referenceQuantisersMatchGgmlBitForBit() throws IOException {
        float[] x = floats("input.f32");
        for (DType q : new DType[] {DType.Q8_0, DType.Q4_0}) {
            byte[] want = bytes(q == DType.Q8_0 ? "q8_0.bin" : "q4_0.bin");
            MemorySegment got = MemorySegment.ofArray(new byte[want.length]);
            if (q == DType.Q8_0) {
                Quant.quantizeQ8_0(x, 0, x.length, got, 0);
            } else {
                Quant.quantizeQ4_0(x, 0, x.length, got, 0);
            }
            assertArrayEquals(want, got.toArray(ValueLayout.JAVA_BYTE), q + " blocks differ from GGML's");

            float[] deq = new float[x.length];
            Quant.dequantize(q, MemorySegment.ofArray(want), 0, x.length, deq, 0);
            assertArrayEquals(floats(q == DType.Q8_0 ? "q8_0_deq.f32" : "q4_0_deq.f32"), deq, 0f, q + " dequantised");
        }
    }

    @Test
    void fastBackendQuantisesAndDequantisesTheSameBits() throws IOException {
        float[] x = floats("input.f32");
        try (CpuBackend cpu = new CpuBackend(2); Tensor src = Tensor.of(x, 8, 128)) {
            for (DType q : new DType[] {DType.Q8_0, DType.Q4_0}) {
                byte[] want = bytes(q == DType.Q8_0 ? "q8_0.bin" : "q4_0.bin");
                try (Tensor t = Tensor.allocate(q, 8, 128); Tensor back = Tensor.allocate(DType.F32, 8, 128)) {
                    cpu.copy(src, t);
                    assertArrayEquals(want, t.segment().toArray(ValueLayout.JAVA_BYTE), "CpuBackend copy F32 -> " + q);
                    cpu.copy(t, back);
                    assertArrayEquals(floats(q == DType.Q8_0 ? "q8_0_deq.f32" : "q4_0_deq.f32"), back.toFloatArray(), 0f,
                            "CpuBackend copy " + q + " -> F32");
                }
            }
        }
    }

    @Test
    void knownBlock() {
        // one hand-checked Q8_0 block: values k/4 for k = -16..15, amax 4 -> d = 4/127, q = round(k * 127 / 16)
        float[] x = new float[32];
        for (int i = 0; i < 32; i++) {
            x[i] = (i - 16) / 4f;
        }
        MemorySegment out = MemorySegment.ofArray(new byte[34]);
        Quant.quantizeQ8_0(x, 0, 32, out, 0);
        assertEquals(Float.floatToFloat16(4f / 127f), out.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
        assertEquals(-127, out.get(ValueLayout.JAVA_BYTE, 2));      // -4 * 127/4
        assertEquals(0, out.get(ValueLayout.JAVA_BYTE, 2 + 16));    // 0
        assertEquals(8, out.get(ValueLayout.JAVA_BYTE, 2 + 17));    // 0.25 * 31.75 = 7.9375 -> 8
        assertEquals(119, out.get(ValueLayout.JAVA_BYTE, 2 + 31));  // 3.75 * 31.75 = 119.06 -> 119
    }

    private static byte[] bytes(String name) throws IOException {
        try (InputStream in = QuantFixtureTest.class.getResourceAsStream("/quant/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource /quant/" + name);
            }
            return in.readAllBytes();
        }
    }

    private static float[] floats(String name) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes(name)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }
}

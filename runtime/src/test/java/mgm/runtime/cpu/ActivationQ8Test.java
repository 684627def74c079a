package mgm.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import mgm.runtime.DType;
import mgm.runtime.Quant;
import org.junit.jupiter.api.Test;

/** {@link ActivationQ8} gives the bits of {@link Quant#quantizeQ8_0} + {@link Quant#dequantize}, block by block. */
class ActivationQ8Test {

    @Test
    void matchesTheReferenceQuantiserBitForBit() {
        Random r = new Random(5);
        int blocks = 40;
        float[] x = new float[32 * blocks];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        // block 1: exact ties (x / d = k + 1/2 with d = 1: amax 127); 2: zeros; 3: one non-zero
        for (int j = 0; j < 32; j++) {
            x[32 + j] = j == 0 ? 127f : (j - 16) + 0.5f;
            x[64 + j] = 0f;
            x[96 + j] = j == 7 ? -3e-3f : 0f;
        }
        fill(x, 4, 1e-35f, r);   // tiny, normal scale that underflows in fp16
        fill(x, 5, 1e-41f, r);   // subnormal scale: 1 / d inexact, |x / d| may pass 127 (the int8 cast wraps)
        fill(x, 6, 1e-44f, r);
        fill(x, 7, 3e38f, r);    // huge, finite scale beyond fp16 (stored as Inf)
        fill(x, 8, 1e6f, r);
        x[9 * 32 + 3] = Float.POSITIVE_INFINITY;
        x[10 * 32 + 30] = Float.NaN;
        x[11 * 32] = Float.NEGATIVE_INFINITY;
        x[11 * 32 + 1] = Float.POSITIVE_INFINITY;
        x[12 * 32 + 5] = -0f;
        for (int j = 0; j < 32; j++) {
            x[13 * 32 + j] = Float.MIN_VALUE * (j % 3);
        }

        int[] q = new int[x.length];
        float[] d = new float[blocks];
        int[] sum8 = new int[blocks];
        float[] rounded = new float[x.length];
        boolean finite = ActivationQ8.round(x, x.length, q, d, sum8, rounded);

        float[] want = new float[x.length];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment blocksRef = arena.allocate(DType.Q8_0.byteSize(x.length));
            Quant.quantizeQ8_0(x, 0, x.length, blocksRef, 0);
            Quant.dequantize(DType.Q8_0, blocksRef, 0, x.length, want, 0);
            boolean allFinite = true;
            for (int b = 0; b < blocks; b++) {
                long at = (long) b * DType.Q8_0.blockBytes();
                float scale = Float.float16ToFloat(blocksRef.get(ValueLayout.JAVA_SHORT_UNALIGNED, at));
                allFinite &= Float.isFinite(scale);
                assertEquals(Float.floatToIntBits(scale), Float.floatToIntBits(d[b]), "scale of block " + b);
                int s = 0;
                for (int j = 0; j < 32; j++) {
                    byte qRef = blocksRef.get(ValueLayout.JAVA_BYTE, at + 2 + j);
                    assertEquals(ActivationQ8.paired(qRef), q[32 * b + j], "paired quant " + j + " of block " + b + " (x = " + x[32 * b + j] + ")");
                    s += qRef;
                }
                assertEquals(8 * s, sum8[b], "8 x quant sum of block " + b);
            }
            assertEquals(allFinite, finite, "whether every scale is finite");
        }
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(rounded[i]), "rounded element " + i + " (x = " + x[i] + ")");
        }
    }

    @Test
    void roundsInPlace() {
        Random r = new Random(6);
        float[] x = new float[96];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian() * 10;
        }
        float[] copy = x.clone();
        float[] apart = new float[x.length];
        ActivationQ8.round(copy, x.length, new int[x.length], new float[3], new int[3], apart);
        ActivationQ8.round(x, x.length, new int[x.length], new float[3], new int[3], x);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(apart[i]), Float.floatToIntBits(x[i]), "element " + i);
        }
    }

    @Test
    void pairsAQuantInBothHalves() {
        for (int quant = -128; quant <= 127; quant++) {
            int p = ActivationQ8.paired(quant);
            assertEquals(quant, (short) p, "low half of " + quant);
            assertEquals(quant, (short) (p >>> 16), "high half of " + quant);
        }
    }

    /**
     * The folded quants are {@code b - 16 a} in both halves, the lower sixteen untouched; and the
     * integer Q4_0 kernel's product of a whole weight byte with them, in wrapping 16-bit arithmetic,
     * is the dot product of its two nibbles with the original quants, for every byte and quant pair.
     */
    @Test
    void foldsEachBlocksUpperHalfForTheIntegerQ4Kernel() {
        int[] quants = {-128, -127, -100, -16, -1, 0, 1, 15, 16, 99, 126, 127};
        for (int a : quants) {
            for (int b : quants) {
                int[] q = new int[64];
                for (int o = 0; o < 64; o += 32) {
                    for (int j = 0; j < 16; j++) {
                        q[o + j] = ActivationQ8.paired(j % 2 == 0 ? a : -a - 1);  // neighbours differ, within int8
                        q[o + 16 + j] = ActivationQ8.paired(b);
                    }
                }
                int[] folded = q.clone();
                ActivationQ8.foldUpperHalves(folded, 64);
                int[] foldedScalar = q.clone();
                ActivationQ8.foldUpperHalvesScalar(foldedScalar, 64);
                assertArrayEquals(foldedScalar, folded, "vector and scalar folds (a " + a + ", b " + b + ")");
                for (int o = 0; o < 64; o += 32) {
                    for (int j = 0; j < 16; j++) {
                        int low = (short) q[o + j];
                        assertEquals(q[o + j], folded[o + j], "lower quant " + j + " unchanged");
                        assertEquals(ActivationQ8.paired(b - 16 * low), folded[o + 16 + j], "folded quant " + j + " (a " + low + ", b " + b + ")");
                        short f = (short) folded[o + 16 + j];
                        for (int c = 0; c < 256; c++) {
                            short kernel = (short) ((short) (c * low) + (short) ((c >> 4) * f));
                            assertEquals((short) ((c & 15) * low + (c >> 4) * b), kernel, "byte " + c + ", a " + low + ", b " + b);
                        }
                    }
                }
            }
        }
    }

    private static void fill(float[] x, int block, float scale, Random r) {
        for (int j = 0; j < 32; j++) {
            x[32 * block + j] = (float) (r.nextGaussian() * scale);
        }
    }
}

package mgm.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import mgm.runtime.DType;
import mgm.runtime.InterleavedQuant;
import org.junit.jupiter.api.Test;

/**
 * {@link GemvKernels#groupsQ4Subnormal} gives the bits of {@link GemvKernels#groupsQ4} on the
 * ordinary rows both take, whichever of the two this CPU runs in the backend (the consistency
 * suite checks that one against the reference): random interleaved Q4_0 groups with finite fp16
 * scales of several magnitudes, activation rows from 2^-116 to 2^100, zeros and K tiles.
 */
class Q4SubnormalKernelTest {
    private static final int K = 256;
    private static final int GROUPS = 3;

    @Test
    void matchesTheConvertingKernelBitForBit() {
        assumeTrue(GemvKernels.WIDE, "the interleaved Q4_0 kernels run on 512-bit vectors only");
        Random r = new Random(21);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomGroups(arena, r);
            float[][] rows = {
                gaussian(r, 1f), gaussian(r, 1e-30f), gaussian(r, 3e29f), gaussian(r, 0x1p-116f), constant(0x1p100f), constant(0f),
                mixed(r),
            };
            for (int i = 0; i < rows.length; i++) {
                float[] x = rows[i];
                assertTrue(GemvKernels.q4RowIsOrdinary(x, K), "row " + i + " is one the fast kernels take");
                // whole K, then the second of two K tiles (xOff = K / 2)
                for (int tile = 0; tile < 2; tile++) {
                    int xOff = tile * K / 2, k = tile == 0 ? K : K / 2;
                    long offset = tile == 0 ? 0 : (long) GROUPS * (K / 32) * InterleavedQuant.blockBytes(DType.Q4_0_R32);
                    long start = AbsoluteMemory.address(w, offset, (long) GROUPS * (k / 32) * InterleavedQuant.blockBytes(DType.Q4_0_R32));
                    float[] scaled = new float[K], scaledSums = new float[K / 32], sub = new float[32 * GROUPS];
                    float back = GemvKernels.prepareQ4Subnormal(x, K, VecMath.maxAbs(x, K), scaled, scaledSums);
                    GemvKernels.groupsQ4Subnormal(start, GROUPS, scaled, scaledSums, back, xOff, k, sub);
                    // the converting kernel gets the same block sums, scaled back (exact: a power of two). Its own
                    // prepare sums alike, but when C2 has compiled one prepare and not the other (the backend runs
                    // one of them only), FloatVector.reduceLanes adds in another order and the last bits can differ
                    float[] plain = new float[32 * GROUPS], plainSums = new float[K / 32];
                    float[] px = new float[K];
                    GemvKernels.prepare(DType.Q4_0_R32, x, K, px, plainSums);
                    for (int b = 0; b < plainSums.length; b++) {
                        plainSums[b] = scaledSums[b] * back;
                    }
                    GemvKernels.groupsQ4(start, GROUPS, px, plainSums, xOff, k, plain);
                    for (int o = 0; o < sub.length; o++) {
                        assertEquals(Float.floatToRawIntBits(plain[o]), Float.floatToRawIntBits(sub[o]),
                                "row " + i + ", tile " + tile + ", output " + o + ": " + plain[o] + " vs " + sub[o]);
                    }
                }
            }
        }
    }

    @Test
    void settingIsParsed() {
        assertTrue(SubnormalOperands.decide("auto", "AuthenticAMD"));
        assertFalse(SubnormalOperands.decide("auto", "GenuineIntel"));
        assertFalse(SubnormalOperands.decide("AUTO", ""));
        assertTrue(SubnormalOperands.decide("true", "GenuineIntel"));
        assertFalse(SubnormalOperands.decide("false", "AuthenticAMD"));
        assertThrows(IllegalArgumentException.class, () -> SubnormalOperands.decide("yes", "AuthenticAMD"));
    }

    /** Room for a whole-K call and a half-K one; quants random, the 32 rows' fp16 scales finite, 2^-20..2^10. */
    private static MemorySegment randomGroups(Arena arena, Random r) {
        int block = InterleavedQuant.blockBytes(DType.Q4_0_R32);
        long blocks = 2L * GROUPS * (K / 32);
        MemorySegment w = arena.allocate(blocks * block, 64);
        ValueLayout.OfShort f16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long b = 0; b < blocks; b++) {
            long o = b * block;
            for (int row = 0; row < 32; row++) {
                float d = (float) Math.scalb(r.nextDouble() + 0.5, r.nextInt(31) - 20) * (r.nextBoolean() ? 1 : -1);
                w.set(f16, o + 2L * row, Float.floatToFloat16(d));
            }
            for (int i = 64; i < block; i++) {
                w.set(ValueLayout.JAVA_BYTE, o + i, (byte) r.nextInt());
            }
        }
        return w;
    }

    private static float[] gaussian(Random r, float scale) {
        float[] x = new float[K];
        for (int i = 0; i < K; i++) {
            x[i] = (float) r.nextGaussian() * scale;
        }
        return x;
    }

    private static float[] constant(float v) {
        float[] x = new float[K];
        java.util.Arrays.fill(x, v);
        return x;
    }

    /** Blocks of very different magnitudes (1e-20 to 1e6 of each other), some exact zeros. */
    private static float[] mixed(Random r) {
        float[] x = gaussian(r, 1f);
        for (int i = 0; i < K; i++) {
            x[i] *= (float) Math.pow(10, (i / 32) * 3 - 18);
            if (i % 7 == 3) {
                x[i] = 0f;
            }
        }
        return x;
    }
}

package mgm.runtime.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import mgm.runtime.Activation;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import org.junit.jupiter.api.Test;

/** Bytes and FLOPs of each op against values worked out by hand from the shapes (see OpCost's rules). */
class OpCostTest {
    private final OpSample s = new OpSample();

    private static Tensor t(DType d, long... shape) {
        return Tensor.allocate(d, shape);
    }

    @Test
    void matmulCountsWeightBytesAtTheirStoredDtype() {
        // x [3, 64] F32, w [5, 64], out [3, 5]: x 768 B, out 60 B, bias 20 B; 2*3*5*64 = 1920 FLOPs (+15 for the bias).
        Tensor x = t(DType.F32, 3, 64);
        Tensor out = t(DType.F32, 3, 5);
        Tensor bias = t(DType.F32, 5);
        long[][] weightBytes = {
            {DType.F32.ordinal(), 5 * 64 * 4},   // 1280
            {DType.F16.ordinal(), 5 * 64 * 2},   // 640
            {DType.BF16.ordinal(), 5 * 64 * 2},  // 640
            {DType.Q8_0.ordinal(), 10 * 34},     // 320 weights = 10 blocks of 34 bytes
            {DType.Q4_0.ordinal(), 10 * 18},     // 10 blocks of 18 bytes
        };
        for (long[] wb : weightBytes) {
            DType dtype = DType.values()[(int) wb[0]];
            Tensor w = t(dtype, 5, 64);
            OpCost.matmul(s, x, w, null, out);
            assertEquals(768 + wb[1] + 60, s.bytes(), dtype + " bytes");
            assertEquals(1920, s.flops(), dtype + " flops");
            OpCost.matmul(s, x, w, bias, out);
            assertEquals(768 + wb[1] + 60 + 20, s.bytes(), dtype + " bytes with bias");
            assertEquals(1920 + 15, s.flops(), dtype + " flops with bias");
            assertEquals("x[3,64] w[5,64] " + dtype + " +bias", s.label());
        }
    }

    @Test
    void matmulsCountTheInputOnceAndEveryWeight() {
        // x [1, 64] F32 (256 B) against q [32, 64], k / v [16, 64] in Q4_0 (2 blocks of 18 B per row), a bias on k:
        // weights 64 rows * 36 B = 2304 B, outputs 256 B, bias 64 B; 2*1*64*64 = 8192 FLOPs + 16 for the bias.
        Tensor x = t(DType.F32, 1, 64);
        Tensor[] ws = {t(DType.Q4_0, 32, 64), t(DType.Q4_0, 16, 64), t(DType.Q4_0, 16, 64)};
        Tensor[] outs = {t(DType.F32, 1, 32), t(DType.F32, 1, 16), t(DType.F32, 1, 16)};
        OpCost.matmuls(s, x, ws, null, outs);
        assertEquals(256 + 2304 + 256, s.bytes());
        assertEquals(8192, s.flops());
        assertEquals("x[1,64] w[64,64] Q4_0", s.label());
        OpCost.matmuls(s, x, ws, new Tensor[] {null, t(DType.F32, 16), null}, outs);
        assertEquals(256 + 2304 + 256 + 64, s.bytes());
        assertEquals(8192 + 16, s.flops());
        assertEquals("x[1,64] w[64,64] Q4_0 +bias", s.label());
    }

    @Test
    void gemvOfASevenBillionModelsMlpRow() {
        // Decode GEMV of LLaMA-2-7B's up projection in Q4_0: 11008 x 4096 weights = 1,409,024 blocks of 18 bytes.
        Tensor x = t(DType.F32, 1, 4096);
        Tensor w = t(DType.Q4_0, 11008, 4096);
        Tensor out = t(DType.F32, 1, 11008);
        OpCost.matmul(s, x, w, null, out);
        assertEquals(25_362_432L + 16_384 + 44_032, s.bytes());
        assertEquals(90_177_536L, s.flops());
    }

    @Test
    void decodeAttentionReadsOnlyTheFilledPartOfTheCache() {
        // q [1, 8, 64] at position 40 against a BF16 cache of 128 positions x 2 kv heads: 41 keys visible.
        Tensor q = t(DType.F32, 1, 8, 64);
        Tensor k = t(DType.BF16, 128, 2, 64);
        Tensor v = t(DType.BF16, 128, 2, 64);
        Tensor out = t(DType.F32, 1, 8, 64);
        OpCost.attention(s, q, k, v, true, 40, out);
        assertEquals(4L * 64 * 8 * 41, s.flops());                 // 83,968
        assertEquals(2048 + 2048 + 2 * (41L * 2 * 64 * 2), s.bytes()); // q + out + K + V = 25,088
        assertEquals("q[1,8,64] kv[128,2,64] BF16 causal", s.label());
    }

    @Test
    void prefillAttentionCountsTheCausalTriangle() {
        Tensor q = t(DType.F32, 6, 4, 16);
        Tensor k = t(DType.F32, 16, 4, 16);
        Tensor out = t(DType.F32, 6, 4, 16);
        // From an empty cache: queries see 1, 2, ..., 6 keys = 21 pairs; 6 keys are read.
        OpCost.attention(s, q, k, k, true, 0, out);
        assertEquals(4L * 16 * 4 * 21, s.flops());
        assertEquals(2 * 6 * 4 * 16 * 4 + 2 * (6L * 4 * 16 * 4), s.bytes());
        // A chunk of 4 after 10 cached tokens: 11 + 12 + 13 + 14 = 50 pairs over 14 keys.
        Tensor q4 = t(DType.F32, 4, 4, 16);
        Tensor out4 = t(DType.F32, 4, 4, 16);
        OpCost.attention(s, q4, k, k, true, 10, out4);
        assertEquals(4L * 16 * 4 * 50, s.flops());
        assertEquals(2 * 4 * 4 * 16 * 4 + 2 * (14L * 4 * 16 * 4), s.bytes());
    }

    @Test
    void unmaskedAttentionSeesEveryKey() {
        // A vision encoder's self-attention: 5 queries x 7 keys, GQA 4 query heads over 2 kv heads, Dh 8, F16 cache.
        Tensor q = t(DType.F32, 5, 4, 8);
        Tensor k = t(DType.F16, 7, 2, 8);
        Tensor out = t(DType.F32, 5, 4, 8);
        OpCost.attention(s, q, k, k, false, 0, out);
        assertEquals(4L * 8 * 4 * 35, s.flops());
        assertEquals(2 * 5 * 4 * 8 * 4 + 2 * (7L * 2 * 8 * 2), s.bytes());
    }

    @Test
    void visiblePairsMatchesCountingThem() {
        Random r = new Random(1);
        for (int i = 0; i < 2000; i++) {
            long t = 1 + r.nextInt(40);
            long keys = 1 + r.nextInt(60);
            long start = r.nextInt(70);
            boolean causal = r.nextBoolean();
            long want = 0;
            for (long q = 0; q < t; q++) {
                want += causal ? Math.min(keys, start + q + 1) : keys;
            }
            assertEquals(want, OpCost.visiblePairs(t, keys, causal, start), t + " queries from " + start + " over " + keys);
        }
    }

    @Test
    void conv2dPatchEmbedding() {
        // CLIP-style patch embedding: [1, 28, 28, 3] with a 14x14 stride-14 kernel to 16 channels: out [1, 2, 2, 16].
        Tensor x = t(DType.F32, 1, 28, 28, 3);
        Tensor w = t(DType.F32, 16, 3, 14, 14);
        Tensor bias = t(DType.F32, 16);
        Tensor out = t(DType.F32, 1, 2, 2, 16);
        OpCost.conv2d(s, x, w, bias, 14, 0, out);
        assertEquals(2L * 4 * 16 * 3 * 196 + 4 * 16, s.flops());         // 75,264 + 64
        assertEquals(9408 + 37_632 + 64 + 256, s.bytes());
        assertEquals("x[1,28,28,3] w[16,3,14,14] F32 s14 p0 +bias", s.label());
    }

    @Test
    void conv2dWithStrideAndPaddingCountsEveryOutputTap() {
        // [2, 5, 5, 4] with a 3x3 stride-2 pad-1 kernel to 6 channels, BF16 weights: out [2, 3, 3, 6].
        Tensor x = t(DType.F32, 2, 5, 5, 4);
        Tensor w = t(DType.BF16, 6, 4, 3, 3);
        Tensor out = t(DType.F32, 2, 3, 3, 6);
        OpCost.conv2d(s, x, w, null, 2, 1, out);
        assertEquals(2L * 18 * 6 * 4 * 9, s.flops());       // 7,776
        assertEquals(800 + 6 * 4 * 9 * 2 + 432, s.bytes());  // x 800, w 432, out 432
    }

    @Test
    void depthwiseConvolution() {
        // ConvNeXt block: 7x7 depthwise on [1, 8, 8, 32] with padding 3.
        Tensor x = t(DType.F32, 1, 8, 8, 32);
        Tensor w = t(DType.F32, 32, 1, 7, 7);
        Tensor bias = t(DType.F32, 32);
        Tensor out = t(DType.F32, 1, 8, 8, 32);
        OpCost.depthwiseConv2d(s, x, w, bias, 3, out);
        assertEquals(2L * 2048 * 49 + 2048, s.flops());
        assertEquals(8192 + 6272 + 128 + 8192, s.bytes());
    }

    @Test
    void normsPointwiseAndCopies() {
        Tensor x = t(DType.F32, 4, 64);
        Tensor w = t(DType.F32, 64);
        OpCost.rmsNorm(s, x, w, x);
        assertEquals(4 * 256, s.flops());
        assertEquals(1024 + 256 + 1024, s.bytes());
        OpCost.layerNorm(s, x, w, w, x);
        assertEquals(8 * 256, s.flops());
        assertEquals(1024 + 256 + 256 + 1024, s.bytes());
        OpCost.gatedActivation(s, Activation.SILU, x, x, x);
        assertEquals(5 * 256, s.flops());
        assertEquals(3 * 1024, s.bytes());
        OpCost.add(s, x, w, x);  // a bias broadcast over rows counts its own 64 elements
        assertEquals(256, s.flops());
        assertEquals(1024 + 256 + 1024, s.bytes());
        Tensor q = t(DType.Q4_0, 64, 32);
        OpCost.copy(s, t(DType.F32, 64, 32), q);
        assertEquals(0, s.flops());
        assertEquals(8192 + 64 * 18, s.bytes());
        assertEquals("[64,32] F32->Q4_0", s.label());
        // Embedding rows of a Q8_0 table: 3 rows of 64 weights = 2 blocks of 34 bytes each.
        OpCost.embedding(s, t(DType.Q8_0, 100, 64), t(DType.I32, 3), t(DType.F32, 3, 64));
        assertEquals(3 * 68 + 12 + 768, s.bytes());
    }

    @Test
    void signaturesTellShapesApartButNotPositions() {
        Tensor q = t(DType.F32, 1, 8, 64);
        Tensor k = t(DType.BF16, 128, 2, 64);
        Tensor out = t(DType.F32, 1, 8, 64);
        OpCost.attention(s, q, k, k, true, 3, out);
        OpSample first = s.freeze();
        OpCost.attention(s, q, k, k, true, 90, out);
        assertEquals(first, s);   // one row for every decode step
        assertEquals(first.hashCode(), s.hashCode());
        OpCost.attention(s, q, k, k, false, 3, out);
        org.junit.jupiter.api.Assertions.assertNotEquals(first, s);
    }
}

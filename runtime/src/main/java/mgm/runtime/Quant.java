package mgm.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reference (scalar) quantisation and dequantisation of the GGML block formats, written to give
 * the same bits as ggml's {@code quantize_row_q8_0_ref} / {@code quantize_row_q4_0_ref}.
 * Block layout, little-endian: fp16 scale {@code d}, then the quants.
 */
public final class Quant {
    public static final int BLOCK = 32;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Quant() {}

    /** Quantises {@code n} floats (a multiple of 32) from {@code src[srcOff..]} into Q8_0 blocks at {@code dst+dstByte}. */
    public static void quantizeQ8_0(float[] src, int srcOff, int n, MemorySegment dst, long dstByte) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            int base = srcOff + b * BLOCK;
            float amax = 0f;
            for (int j = 0; j < BLOCK; j++) {
                amax = Math.max(amax, Math.abs(src[base + j]));
            }
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            long at = dstByte + (long) b * DType.Q8_0.blockBytes();
            dst.set(F16, at, Float.floatToFloat16(d));
            for (int j = 0; j < BLOCK; j++) {
                dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, roundToInt8(src[base + j] * id));
            }
        }
    }

    /** Quantises {@code n} floats (a multiple of 32) into Q4_0 blocks. */
    public static void quantizeQ4_0(float[] src, int srcOff, int n, MemorySegment dst, long dstByte) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            int base = srcOff + b * BLOCK;
            float amax = 0f;
            float max = 0f;
            for (int j = 0; j < BLOCK; j++) {
                float v = src[base + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8f;
            float id = d != 0f ? 1f / d : 0f;
            long at = dstByte + (long) b * DType.Q4_0.blockBytes();
            dst.set(F16, at, Float.floatToFloat16(d));
            for (int j = 0; j < BLOCK / 2; j++) {
                int lo = Math.min(15, (byte) (src[base + j] * id + 8.5f));
                int hi = Math.min(15, (byte) (src[base + j + 16] * id + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (lo | (hi << 4)));
            }
        }
    }

    /** Dequantises {@code n} elements of {@code type} starting at block-aligned byte {@code srcByte}. */
    public static void dequantize(DType type, MemorySegment src, long srcByte, int n, float[] dst, int dstOff) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long at = srcByte + (long) b * type.blockBytes();
            float d = Float.float16ToFloat(src.get(F16, at));
            int base = dstOff + b * BLOCK;
            switch (type) {
                case Q8_0 -> {
                    for (int j = 0; j < BLOCK; j++) {
                        dst[base + j] = d * src.get(ValueLayout.JAVA_BYTE, at + 2 + j);
                    }
                }
                case Q4_0 -> {
                    for (int j = 0; j < BLOCK / 2; j++) {
                        int q = src.get(ValueLayout.JAVA_BYTE, at + 2 + j) & 0xFF;
                        dst[base + j] = d * ((q & 0xF) - 8);
                        dst[base + j + 16] = d * ((q >>> 4) - 8);
                    }
                }
                default -> throw new IllegalArgumentException(type + " is not a block-quantised type");
            }
        }
    }

    /** One element of a quantised row: block-aligned start byte + element index within the row. */
    public static float element(DType type, MemorySegment src, long rowByte, long index) {
        long at = rowByte + index / BLOCK * type.blockBytes();
        int j = (int) (index % BLOCK);
        float d = Float.float16ToFloat(src.get(F16, at));
        return switch (type) {
            case Q8_0 -> d * src.get(ValueLayout.JAVA_BYTE, at + 2 + j);
            case Q4_0 -> {
                int q = src.get(ValueLayout.JAVA_BYTE, at + 2 + (j & 15)) & 0xFF;
                yield d * ((j < 16 ? q & 0xF : q >>> 4) - 8);
            }
            default -> throw new IllegalArgumentException(type + " is not a block-quantised type");
        };
    }

    /** One Q8_0 quant from its scaled value: C's roundf, then a cast to int8 (which wraps, as in C). */
    public static byte roundToInt8(float scaled) {
        return (byte) roundHalfAway(scaled);
    }

    /** C's roundf: halves round away from zero. */
    static float roundHalfAway(float x) {
        float a = Math.abs(x);
        float t = (float) Math.floor(a);
        if (a - t >= 0.5f) {
            t += 1f;
        }
        return Math.copySign(t, x);
    }

    private static void checkBlocks(int n) {
        if (n % BLOCK != 0) {
            throw new IllegalArgumentException("quantised rows hold whole blocks of 32 elements; got " + n);
        }
    }
}

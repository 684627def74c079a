package mgm.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.stream.IntStream;

import mgm.runtime.DType;
import mgm.runtime.Numerics;
import mgm.runtime.Tensor;

/**
 * Large random tensors built quickly (a model of ~1 G parameters in a second or two): values
 * uniform in {@code [-amplitude, amplitude]} from a counter-based hash (splitmix64), so every
 * tensor is reproducible from its seed and filled in parallel without shared state.
 */
final class RandomTensors {
    private RandomTensors() {}

    private static final ValueLayout.OfShort SH = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int PIECE = 1 << 16;

    /** A new host tensor of F32, F16 or BF16 holding uniform values in [-amplitude, amplitude]. */
    static Tensor uniform(DType dtype, long seed, float amplitude, long... shape) {
        Tensor t = Tensor.allocate(dtype, shape);
        MemorySegment seg = t.segment();
        long n = t.numel();
        int pieces = (int) ((n + PIECE - 1) / PIECE);
        IntStream.range(0, pieces).parallel().forEach(p -> {
            long from = (long) p * PIECE;
            long to = Math.min(n, from + PIECE);
            for (long i = from; i < to; i++) {
                float v = amplitude * unit(seed, i);
                switch (dtype) {
                    case F32 -> seg.set(FL, 4 * i, v);
                    case F16 -> seg.set(SH, 2 * i, Numerics.f32ToF16(v));
                    case BF16 -> seg.set(SH, 2 * i, Numerics.f32ToBf16(v));
                    default -> throw new IllegalArgumentException("random " + dtype + " tensors are not supported");
                }
            }
        });
        return t;
    }

    /** A new host tensor of {@code dtype} with every element {@code value}. */
    static Tensor filled(DType dtype, float value, long... shape) {
        Tensor t = Tensor.allocate(dtype, shape);
        for (long i = 0; i < t.numel(); i++) {
            switch (dtype) {
                case F32 -> t.segment().set(FL, 4 * i, value);
                case F16 -> t.segment().set(SH, 2 * i, Numerics.f32ToF16(value));
                case BF16 -> t.segment().set(SH, 2 * i, Numerics.f32ToBf16(value));
                default -> throw new IllegalArgumentException("filled " + dtype + " tensors are not supported");
            }
        }
        return t;
    }

    /** A uniform value in [-1, 1) for element {@code i} of the stream {@code seed}. */
    private static float unit(long seed, long i) {
        long z = seed * 0x9E3779B97F4A7C15L + i * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 40) * 0x1p-23f - 1f;
    }
}

package mgm.loaders.safetensors;

import mgm.runtime.DType;

/**
 * How our block-quantised tensors (Q8_0, Q4_0) are stored so that any safetensors reader can
 * still open the file: the data as a U8 tensor whose last dimension counts bytes
 * ({@code lastDim / 32 * blockBytes}), and {@code __metadata__["mgm.quant.<name>"] = "Q8_0"}.
 * Our reader turns such a tensor back into its quantised dtype and logical shape.
 */
final class QuantMarker {
    static final String PREFIX = "mgm.quant.";

    private QuantMarker() {}

    static String key(String tensorName) {
        return PREFIX + tensorName;
    }

    /** The quantised dtype named by a marker value, or null when unknown. */
    static DType dtype(String value) {
        return switch (value) {
            case "Q8_0" -> DType.Q8_0;
            case "Q4_0" -> DType.Q4_0;
            default -> null;
        };
    }

    /** The stored (U8) shape of a quantised tensor of logical {@code shape}. */
    static long[] storedShape(DType q, long[] shape) {
        long[] s = shape.clone();
        s[s.length - 1] = s[s.length - 1] / q.blockSize() * q.blockBytes();
        return s;
    }

    /** The logical shape of a stored U8 shape, or null when its last dimension is not whole blocks. */
    static long[] logicalShape(DType q, long[] stored) {
        if (stored.length == 0 || stored[stored.length - 1] % q.blockBytes() != 0) {
            return null;
        }
        long[] s = stored.clone();
        s[s.length - 1] = s[s.length - 1] / q.blockBytes() * q.blockSize();
        return s;
    }
}

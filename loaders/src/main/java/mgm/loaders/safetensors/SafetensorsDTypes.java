package mgm.loaders.safetensors;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;
import mgm.runtime.DType;

/** The safetensors dtype names and how the reference writer orders them. */
final class SafetensorsDTypes {
    private static final Map<String, DType> BY_NAME = Map.ofEntries(
            Map.entry("F64", DType.F64), Map.entry("F32", DType.F32), Map.entry("F16", DType.F16),
            Map.entry("BF16", DType.BF16), Map.entry("I64", DType.I64), Map.entry("I32", DType.I32),
            Map.entry("I16", DType.I16), Map.entry("I8", DType.I8), Map.entry("U8", DType.U8),
            Map.entry("BOOL", DType.BOOL), Map.entry("F8_E4M3", DType.F8_E4M3), Map.entry("F8_E5M2", DType.F8_E5M2));

    /** Names the format has that we cannot represent; refused with a specific message. */
    private static final String UNSUPPORTED = "U16, U32, U64, C64, F4, F6_E2M3, F6_E3M2, F8_E8M0";

    private SafetensorsDTypes() {}

    /** The DType of a header dtype name, or null when unknown. */
    static DType fromName(String name) {
        return BY_NAME.get(name);
    }

    static String supported() {
        return BY_NAME.keySet().stream().sorted().collect(Collectors.joining(", "));
    }

    static boolean isKnownButUnsupported(String name) {
        return Arrays.asList(UNSUPPORTED.split(", ")).contains(name);
    }

    /** The header name of a plain dtype (quantised ones are stored as U8). */
    static String name(DType t) {
        return switch (t) {
            case Q8_0, Q4_0 -> "U8";
            case Q8_0_R32, Q4_0_R32 -> throw notStorable(t);
            default -> t.name();
        };
    }

    /**
     * Position of a dtype in the reference implementation's {@code Dtype} enum; its writer lays
     * out tensors by descending position, then by name, which keeps every tensor aligned to its
     * element size.
     */
    static int writeRank(DType t) {
        return switch (t) {
            case BOOL -> 0;
            case U8, Q8_0, Q4_0 -> 4;
            case I8 -> 5;
            case F8_E5M2 -> 6;
            case F8_E4M3 -> 7;
            case I16 -> 9;
            case F16 -> 11;
            case BF16 -> 12;
            case I32 -> 13;
            case F32 -> 15;
            case F64 -> 17;
            case I64 -> 18;
            case Q8_0_R32, Q4_0_R32 -> throw notStorable(t);
        };
    }

    private static IllegalArgumentException notStorable(DType t) {
        return new IllegalArgumentException(t + " is the CPU backend's in-memory matmul layout, not a file format: "
                + "TiledWeights.plainCopy gives the GGML form to write");
    }
}

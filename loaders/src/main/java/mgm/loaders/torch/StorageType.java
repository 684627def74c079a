package mgm.loaders.torch;

import java.util.Map;
import mgm.runtime.DType;

/** The PyTorch storage classes a state dict pickle may name, and the element type each holds. */
enum StorageType {
    FLOAT("FloatStorage", DType.F32),
    DOUBLE("DoubleStorage", DType.F64),
    HALF("HalfStorage", DType.F16),
    BFLOAT16("BFloat16Storage", DType.BF16),
    LONG("LongStorage", DType.I64),
    INT("IntStorage", DType.I32),
    SHORT("ShortStorage", DType.I16),
    CHAR("CharStorage", DType.I8),
    BYTE("ByteStorage", DType.U8),
    BOOL("BoolStorage", DType.BOOL),
    /** Raw bytes ({@code torch.UntypedStorage}); numel counts bytes. */
    UNTYPED("UntypedStorage", DType.U8);

    private static final Map<String, StorageType> BY_CLASS = Map.ofEntries(
            Map.entry("FloatStorage", FLOAT), Map.entry("DoubleStorage", DOUBLE), Map.entry("HalfStorage", HALF),
            Map.entry("BFloat16Storage", BFLOAT16), Map.entry("LongStorage", LONG), Map.entry("IntStorage", INT),
            Map.entry("ShortStorage", SHORT), Map.entry("CharStorage", CHAR), Map.entry("ByteStorage", BYTE),
            Map.entry("BoolStorage", BOOL), Map.entry("UntypedStorage", UNTYPED));

    final String className;
    final DType dtype;

    StorageType(String className, DType dtype) {
        this.className = className;
        this.dtype = dtype;
    }

    /** The storage type for {@code module.name}, or null when it is not one we read. */
    static StorageType of(String module, String name) {
        boolean torchModule = module.equals("torch") || (module.equals("torch.storage") && name.equals("UntypedStorage"));
        return torchModule ? BY_CLASS.get(name) : null;
    }
}

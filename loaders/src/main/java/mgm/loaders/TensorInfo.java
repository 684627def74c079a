package mgm.loaders;

import java.nio.file.Path;
import java.util.Arrays;
import mgm.runtime.DType;

/**
 * What a checkpoint says about one tensor, known from the header alone (no tensor data read).
 *
 * @param name  the tensor's name in the checkpoint
 * @param dtype its element type
 * @param shape its logical shape
 * @param file  the file holding its data
 */
public record TensorInfo(String name, DType dtype, long[] shape, Path file) {
    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        long n = 1;
        for (long s : shape) {
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    /** Bytes of the data when stored contiguously. */
    public long byteSize() {
        return dtype.byteSize(numel());
    }

    /** e.g. {@code model.norm.weight [4096] BF16}. */
    public String describe() {
        return name + " " + Arrays.toString(shape) + " " + dtype;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && file.equals(t.file);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return describe() + " in " + file;
    }
}

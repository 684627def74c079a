package mgm.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An n-dimensional view of a {@link Storage}: dtype, shape, strides (in elements) and an element
 * offset. Views (slice, select, transpose, permute, reshape of contiguous data, broadcast) share
 * the storage and never copy; copies go through {@code Backend.copy}.
 *
 * <p>Block-quantised tensors (Q8_0, Q4_0) are addressed in elements too, but only views that keep
 * whole blocks along a contiguous last dimension are allowed.
 *
 * <p>Lifetime is explicit: the tensor that allocated its storage owns it and releases it on
 * {@link #close()}; views and tensors over memory-mapped files do not own theirs. Using a tensor
 * whose storage is gone fails with an exception that names the operation.
 */
public final class Tensor implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Storage storage;
    private final DType dtype;
    private final long[] shape;
    private final long[] strides;
    private final long offset;
    private final boolean owner;

    private Tensor(Storage storage, DType dtype, long[] shape, long[] strides, long offset, boolean owner) {
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.owner = owner;
        if (dtype.isQuantized()) {
            checkBlockAligned();
        }
    }

    // ---------------------------------------------------------------- factories

    /** Zero-filled contiguous host tensor that owns its memory. */
    public static Tensor allocate(DType dtype, long... shape) {
        long[] s = checkShape(shape);
        long n = product(s);
        return new Tensor(Storage.allocateHost(dtype.byteSize(n)), dtype, s, contiguousStrides(s), 0, true);
    }

    /**
     * A contiguous tensor over {@code storage} starting at byte {@code byteOffset}; the storage
     * must hold all its bytes. {@code owner}: whether closing this tensor closes the storage.
     */
    public static Tensor wrap(Storage storage, long byteOffset, DType dtype, boolean owner, long... shape) {
        long[] s = checkShape(shape);
        long bytes = dtype.byteSize(product(s));
        if (byteOffset < 0 || byteOffset + bytes > storage.byteSize()) {
            throw new IllegalArgumentException("tensor " + Arrays.toString(s) + " " + dtype + " needs bytes ["
                    + byteOffset + ", " + (byteOffset + bytes) + ") but the storage holds " + storage.byteSize());
        }
        long unit = dtype.blockBytes();
        if (byteOffset % unit != 0) {
            // Express an unaligned start as its own storage slice so that offsets stay in elements.
            MemorySegment seg = storage.segment().asSlice(byteOffset, bytes);
            return new Tensor(new Storage(seg, storage.device(), owner ? storage : null), dtype, s,
                    contiguousStrides(s), 0, owner);
        }
        long elemOffset = byteOffset / unit * dtype.blockSize();
        return new Tensor(storage, dtype, s, contiguousStrides(s), elemOffset, owner);
    }

    /** A host tensor over a segment someone else owns (e.g. a memory-mapped file). Zero copy. */
    public static Tensor wrap(MemorySegment segment, DType dtype, long... shape) {
        return wrap(Storage.wrapHost(segment), 0, dtype, false, shape);
    }

    /** A new F32 host tensor holding {@code data}. */
    public static Tensor of(float[] data, long... shape) {
        Tensor t = allocate(DType.F32, shape.length == 0 ? new long[] {data.length} : shape);
        if (t.numel() != data.length) {
            t.close();
            throw new IllegalArgumentException(data.length + " values do not fill shape " + Arrays.toString(shape));
        }
        MemorySegment.copy(data, 0, t.storage.segment(), F32, 0, data.length);
        return t;
    }

    /** A new I32 host tensor holding {@code data}. */
    public static Tensor ofInts(int[] data, long... shape) {
        Tensor t = allocate(DType.I32, shape.length == 0 ? new long[] {data.length} : shape);
        if (t.numel() != data.length) {
            t.close();
            throw new IllegalArgumentException(data.length + " values do not fill shape " + Arrays.toString(shape));
        }
        MemorySegment.copy(data, 0, t.storage.segment(), I32, 0, data.length);
        return t;
    }

    // ---------------------------------------------------------------- properties

    public DType dtype() {
        return dtype;
    }

    public Storage storage() {
        return storage;
    }

    public Device device() {
        return storage.device();
    }

    public int rank() {
        return shape.length;
    }

    public long[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code d}; negative {@code d} counts from the end. */
    public long dim(int d) {
        return shape[axis(d)];
    }

    public long[] strides() {
        return strides.clone();
    }

    /** Stride of dimension {@code d} in elements; negative {@code d} counts from the end. */
    public long stride(int d) {
        return strides[axis(d)];
    }

    /** Offset of the first element from the start of the storage, in elements. */
    public long offset() {
        return offset;
    }

    public long numel() {
        return product(shape);
    }

    /** Byte position of element index {@code elementIndex} (relative to the storage start). */
    public long byteOffsetOf(long elementIndex) {
        return dtype.isQuantized()
                ? elementIndex / dtype.blockSize() * dtype.blockBytes()
                : elementIndex * dtype.blockBytes();
    }

    /** Byte position of this tensor's first element within {@link #storage()}. */
    public long byteOffset() {
        return byteOffsetOf(offset);
    }

    /** Bytes spanned by a contiguous tensor of this shape and dtype. */
    public long byteSize() {
        return dtype.byteSize(numel());
    }

    /** Row-major and dense: strides are those of a fresh tensor of the same shape (size-1 dims ignored). */
    public boolean isContiguous() {
        long expect = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expect) {
                return false;
            }
            expect *= shape[d];
        }
        return true;
    }

    /**
     * The storage segment from this tensor's first element: exactly {@link #byteSize()} bytes when
     * contiguous, otherwise up to the end of the storage. Host tensors only may be dereferenced.
     */
    public MemorySegment segment() {
        checkAlive("segment");
        MemorySegment all = storage.segment();
        long start = byteOffset();
        return isContiguous() ? all.asSlice(start, byteSize()) : all.asSlice(start);
    }

    public boolean isAlive() {
        return storage.isAlive();
    }

    /** Throws a clear exception if the storage was released. */
    public void checkAlive(String op) {
        if (!storage.isAlive()) {
            throw new IllegalStateException(op + ": tensor " + describe() + " was closed");
        }
    }

    /** e.g. {@code [2, 3] F32} or {@code [2, 3] F32 (strided)}. */
    public String describe() {
        return Arrays.toString(shape) + " " + dtype + (isContiguous() ? "" : " (strided " + Arrays.toString(strides) + ")")
                + (storage.device().isHost() ? "" : " on " + storage.device());
    }

    @Override
    public String toString() {
        return "Tensor" + describe();
    }

    // ---------------------------------------------------------------- views

    /** Same data, new shape. Zero copy; needs a contiguous tensor (copy first otherwise). -1 infers one dim. */
    public Tensor reshape(long... newShape) {
        long[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("reshape " + describe() + " to " + Arrays.toString(newShape) + ": more than one -1");
                }
                infer = i;
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel() % known != 0) {
                throw new IllegalArgumentException("reshape " + describe() + " to " + Arrays.toString(newShape) + ": sizes do not divide");
            }
            s[infer] = numel() / known;
        }
        checkShape(s);
        if (product(s) != numel()) {
            throw new IllegalArgumentException("reshape " + describe() + " to " + Arrays.toString(newShape)
                    + ": " + numel() + " elements cannot become " + product(s));
        }
        if (!isContiguous()) {
            throw new IllegalArgumentException("reshape " + describe() + ": not contiguous; copy it first (Backend.copy)");
        }
        return view(s, contiguousStrides(s), offset);
    }

    /** Elements {@code [start, end)} of dimension {@code d}. */
    public Tensor slice(int d, long start, long end) {
        int a = axis(d);
        if (start < 0 || end > shape[a] || start > end) {
            throw new IndexOutOfBoundsException("slice " + describe() + " dim " + a + " [" + start + ", " + end
                    + ") outside [0, " + shape[a] + ")");
        }
        long[] s = shape.clone();
        s[a] = end - start;
        return view(s, strides.clone(), offset + start * strides[a]);
    }

    /** Index {@code index} of dimension {@code d}, which disappears from the shape. */
    public Tensor select(int d, long index) {
        int a = axis(d);
        if (index < 0 || index >= shape[a]) {
            throw new IndexOutOfBoundsException("select " + describe() + " dim " + a + " index " + index
                    + " outside [0, " + shape[a] + ")");
        }
        return view(remove(shape, a), remove(strides, a), offset + index * strides[a]);
    }

    public Tensor transpose(int d0, int d1) {
        int a = axis(d0);
        int b = axis(d1);
        long[] s = shape.clone();
        long[] st = strides.clone();
        s[a] = shape[b];
        s[b] = shape[a];
        st[a] = strides[b];
        st[b] = strides[a];
        return view(s, st, offset);
    }

    /** Reorders dimensions: result dim i is this tensor's dim {@code order[i]}. */
    public Tensor permute(int... order) {
        if (order.length != shape.length) {
            throw new IllegalArgumentException("permute " + describe() + " with " + order.length + " dims");
        }
        long[] s = new long[order.length];
        long[] st = new long[order.length];
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int a = axis(order[i]);
            if (seen[a]) {
                throw new IllegalArgumentException("permute " + describe() + ": dim " + a + " repeated in " + Arrays.toString(order));
            }
            seen[a] = true;
            s[i] = shape[a];
            st[i] = strides[a];
        }
        return view(s, st, offset);
    }

    /** Inserts a size-1 dimension at {@code d} (0..rank). */
    public Tensor unsqueeze(int d) {
        if (d < 0 || d > shape.length) {
            throw new IndexOutOfBoundsException("unsqueeze " + describe() + " at " + d);
        }
        long[] s = new long[shape.length + 1];
        long[] st = new long[shape.length + 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i == d) {
                s[i] = 1;
                st[i] = d < shape.length ? strides[d] * shape[d] : 1;
            } else {
                s[i] = shape[j];
                st[i] = strides[j++];
            }
        }
        return view(s, st, offset);
    }

    /** NumPy-style broadcast to {@code target}: size-1 (or missing leading) dims get stride 0. */
    public Tensor broadcastTo(long... target) {
        if (target.length < shape.length) {
            throw new IllegalArgumentException("cannot broadcast " + describe() + " to " + Arrays.toString(target));
        }
        long[] st = new long[target.length];
        int lead = target.length - shape.length;
        for (int i = 0; i < target.length; i++) {
            if (i < lead) {
                st[i] = 0;
                continue;
            }
            long have = shape[i - lead];
            if (have == target[i]) {
                st[i] = strides[i - lead];
            } else if (have == 1) {
                st[i] = 0;
            } else {
                throw new IllegalArgumentException("cannot broadcast " + describe() + " to " + Arrays.toString(target));
            }
        }
        return view(checkShape(target), st, offset);
    }

    /**
     * A view of this tensor's storage with any shape, strides (elements, non-negative) and element
     * offset from the storage start, like torch's {@code as_strided}: how checkpoint loaders
     * rebuild saved non-contiguous tensors without copying. Every reachable element must lie
     * inside the storage.
     */
    public Tensor asStrided(long[] newShape, long[] newStrides, long elementOffset) {
        String what = "asStrided " + Arrays.toString(newShape) + " strides " + Arrays.toString(newStrides)
                + " offset " + elementOffset + " on " + storage.byteSize() + " bytes of " + dtype;
        if (newShape.length != newStrides.length) {
            throw new IllegalArgumentException(what + ": shape and strides differ in rank");
        }
        long[] s = checkShape(newShape);
        long last = elementOffset;
        boolean empty = false;
        try {
            for (int d = 0; d < s.length; d++) {
                if (newStrides[d] < 0) {
                    throw new IllegalArgumentException(what + ": negative stride");
                }
                empty |= s[d] == 0;
                if (s[d] > 0) {
                    last = Math.addExact(last, Math.multiplyExact(s[d] - 1, newStrides[d]));
                }
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(what + ": element positions overflow");
        }
        long elements = storage.byteSize() / dtype.blockBytes() * dtype.blockSize();
        if (elementOffset < 0 || elementOffset > elements || (!empty && last >= elements)) {
            throw new IllegalArgumentException(what + ": reaches outside the storage (" + elements + " elements)");
        }
        return view(s, newStrides.clone(), elementOffset);
    }

    /** Whether this tensor and {@code other} have the same shape. */
    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    // ---------------------------------------------------------------- host access (tests, small tensors)

    /** Element at {@code index} (one index per dim) as a float; host tensors of any dtype. */
    public float getFloat(long... index) {
        return readFloat(elementIndex(index));
    }

    /** Element at {@code index} as an int (I8, I16, I32, I64, U8, BOOL). */
    public long getLong(long... index) {
        long e = elementIndex(index);
        MemorySegment seg = storage.segment();
        long at = byteOffsetOf(e);
        return switch (dtype) {
            case I8 -> seg.get(ValueLayout.JAVA_BYTE, at);
            case U8, BOOL -> seg.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
            case I16 -> seg.get(I16, at);
            case I32 -> seg.get(I32, at);
            case I64 -> seg.get(I64, at);
            default -> throw new IllegalArgumentException("getLong on " + describe() + ": not an integer dtype");
        };
    }

    /** Sets element at {@code index} (float dtypes F32/F16/BF16, integer dtypes get the value truncated). */
    public void setFloat(float value, long... index) {
        long e = elementIndex(index);
        MemorySegment seg = storage.segment();
        long at = byteOffsetOf(e);
        switch (dtype) {
            case F32 -> seg.set(F32, at, value);
            case F16 -> seg.set(I16, at, Numerics.f32ToF16(value));
            case BF16 -> seg.set(I16, at, Numerics.f32ToBf16(value));
            case F64 -> seg.set(F64, at, value);
            case I32 -> seg.set(I32, at, (int) value);
            default -> throw new IllegalArgumentException("setFloat on " + describe() + ": unsupported dtype");
        }
    }

    /** All elements in row-major order as floats (dequantised/converted). Host tensors; for tests and small data. */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("toFloatArray on " + describe() + ": too large for an array");
        }
        float[] out = new float[(int) n];
        long[] idx = new long[shape.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = readFloat(elementOf(idx));
            increment(idx);
        }
        return out;
    }

    /** All elements as ints (integer dtypes). Host tensors. */
    public int[] toIntArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("toIntArray on " + describe() + ": too large for an array");
        }
        int[] out = new int[(int) n];
        long[] idx = new long[shape.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (int) getLong(idx);
            increment(idx);
        }
        return out;
    }

    /** The element at flat storage element position {@code e} as a float. */
    private float readFloat(long e) {
        checkAlive("read");
        if (!storage.device().isHost()) {
            throw new IllegalStateException("read: tensor " + describe() + " is not in host memory");
        }
        MemorySegment seg = storage.segment();
        if (InterleavedQuant.isInterleaved(dtype)) {
            throw new IllegalStateException("read: tensor " + describe() + " is a CPU matmul layout; "
                    + "InterleavedQuant.deinterleave gives the readable GGML form");
        }
        if (dtype.isQuantized()) {
            long row = e / dtype.blockSize() * dtype.blockSize();
            return Quant.element(dtype, seg, byteOffsetOf(row), e - row);
        }
        long at = byteOffsetOf(e);
        return switch (dtype) {
            case F32 -> seg.get(F32, at);
            case F16 -> Numerics.f16ToF32(seg.get(I16, at));
            case BF16 -> Numerics.bf16ToF32(seg.get(I16, at));
            case F64 -> (float) seg.get(F64, at);
            case I8 -> seg.get(ValueLayout.JAVA_BYTE, at);
            case U8, BOOL -> seg.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
            case I16 -> seg.get(I16, at);
            case I32 -> seg.get(I32, at);
            case I64 -> seg.get(I64, at);
            case F8_E4M3 -> Numerics.f8e4m3ToF32(seg.get(ValueLayout.JAVA_BYTE, at));
            case F8_E5M2 -> Numerics.f8e5m2ToF32(seg.get(ValueLayout.JAVA_BYTE, at));
            default -> throw new AssertionError(dtype);
        };
    }

    /** Flat storage element position of a multi-index. */
    public long elementIndex(long... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " for " + describe());
        }
        for (int d = 0; d < index.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " outside " + describe());
            }
        }
        return elementOf(index);
    }

    private long elementOf(long[] index) {
        long e = offset;
        for (int d = 0; d < index.length; d++) {
            e += index[d] * strides[d];
        }
        return e;
    }

    private void increment(long[] idx) {
        for (int d = idx.length - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) {
                return;
            }
            idx[d] = 0;
        }
    }

    // ---------------------------------------------------------------- lifetime

    /** Releases the storage if this tensor owns it; views and mapped tensors release nothing. */
    @Override
    public void close() {
        if (owner) {
            storage.close();
        }
    }

    public boolean ownsStorage() {
        return owner;
    }

    // ---------------------------------------------------------------- helpers

    private Tensor view(long[] s, long[] st, long off) {
        return new Tensor(storage, dtype, s, st, off, false);
    }

    private int axis(int d) {
        int a = d < 0 ? d + shape.length : d;
        if (a < 0 || a >= shape.length) {
            throw new IndexOutOfBoundsException("dim " + d + " of " + describe());
        }
        return a;
    }

    private void checkBlockAligned() {
        int last = shape.length - 1;
        int bs = dtype.blockSize();
        boolean ok = shape.length > 0 && (strides[last] == 1 || shape[last] == 1) && shape[last] % bs == 0 && offset % bs == 0;
        for (int d = 0; ok && d < last; d++) {
            ok = shape[d] == 1 || strides[d] % bs == 0;
        }
        if (!ok) {
            throw new IllegalArgumentException(dtype + " tensors keep whole blocks of " + bs
                    + " along a contiguous last dimension; view " + Arrays.toString(shape) + " strides "
                    + Arrays.toString(strides) + " offset " + offset + " does not");
        }
    }

    static long[] contiguousStrides(long[] shape) {
        long[] st = new long[shape.length];
        long s = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            st[d] = s;
            s *= shape[d];
        }
        return st;
    }

    private static long[] checkShape(long[] shape) {
        for (long s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("negative size in shape " + Arrays.toString(shape));
            }
        }
        return shape.clone();
    }

    /** Number of elements of a shape (overflow-checked). */
    public static long product(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    private static long[] remove(long[] a, int i) {
        long[] r = new long[a.length - 1];
        System.arraycopy(a, 0, r, 0, i);
        System.arraycopy(a, i + 1, r, i, a.length - i - 1);
        return r;
    }
}

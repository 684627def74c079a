package mgm.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Kernel arguments the way {@code cuLaunchKernel} takes them: every value stored at its natural
 * alignment in one buffer, and an array of pointers to the values. One instance is reused for
 * every launch of a backend (not thread-safe); {@link #copy()} makes a private snapshot (graph
 * capture in the emulator).
 */
public final class KernelArgs {
    static final int MAX_ARGS = 40;
    static final int VALUE_BYTES = 2048;
    /** Bytes of a {@code View} (common.cuh): 6 sizes, 6 strides, rank, padding. */
    static final int VIEW_BYTES = 6 * 8 * 2 + 8;
    static final int MAX_DIMS = 6;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment values;
    private final MemorySegment pointers;
    private int count;
    private int used;

    public KernelArgs() {
        Arena arena = Arena.ofAuto();
        values = arena.allocate(VALUE_BYTES, 16);
        pointers = arena.allocate(MAX_ARGS * 8L, 8);
    }

    /** Starts a new argument list. */
    public KernelArgs reset() {
        count = 0;
        used = 0;
        return this;
    }

    /** A device pointer (64-bit). */
    public KernelArgs ptr(long address) {
        slot(8, 8).set(I64, 0, address);
        return this;
    }

    public KernelArgs i32(int v) {
        slot(4, 4).set(I32, 0, v);
        return this;
    }

    public KernelArgs i64(long v) {
        slot(8, 8).set(I64, 0, v);
        return this;
    }

    public KernelArgs f32(float v) {
        slot(4, 4).set(F32, 0, v);
        return this;
    }

    /** A struct of ints passed by value (e.g. {@code ConvGeom}). */
    public KernelArgs ints(int... v) {
        MemorySegment s = slot(4L * v.length, 4);
        for (int i = 0; i < v.length; i++) {
            s.set(I32, 4L * i, v[i]);
        }
        return this;
    }

    /** A {@code View} struct by value: sizes and strides in elements, at most 6 dims. */
    public KernelArgs view(long[] shape, long[] strides) {
        if (shape.length > MAX_DIMS || strides.length != shape.length) {
            throw new IllegalArgumentException("kernel views have at most " + MAX_DIMS + " dims; got shape "
                    + Arrays.toString(shape) + " strides " + Arrays.toString(strides));
        }
        MemorySegment s = slot(VIEW_BYTES, 8);
        s.fill((byte) 0);
        for (int d = 0; d < shape.length; d++) {
            s.set(I64, 8L * d, shape[d]);
            s.set(I64, 8L * (MAX_DIMS + d), strides[d]);
        }
        s.set(I32, 16L * MAX_DIMS, shape.length);
        return this;
    }

    public int count() {
        return count;
    }

    /** The {@code void**} array to pass as {@code kernelParams}. */
    public MemorySegment pointers() {
        return pointers;
    }

    /** Bytes [offset, offset + size) of argument i, for tests and graph snapshots. */
    MemorySegment value(int i) {
        long at = pointers.getAtIndex(ValueLayout.ADDRESS, i).address() - values.address();
        long end = i + 1 < count ? pointers.getAtIndex(ValueLayout.ADDRESS, i + 1).address() - values.address() : used;
        return values.asSlice(at, end - at);
    }

    /** An independent copy (own memory) with the same argument values. */
    public KernelArgs copy() {
        KernelArgs c = new KernelArgs();
        MemorySegment.copy(values, 0, c.values, 0, used);
        for (int i = 0; i < count; i++) {
            long at = pointers.getAtIndex(ValueLayout.ADDRESS, i).address() - values.address();
            c.pointers.setAtIndex(ValueLayout.ADDRESS, i, c.values.asSlice(at));
        }
        c.count = count;
        c.used = used;
        return c;
    }

    private MemorySegment slot(long bytes, int align) {
        if (count == MAX_ARGS) {
            throw new IllegalStateException("more than " + MAX_ARGS + " kernel arguments");
        }
        int at = (int) ((used + align - 1) / align * align);
        if (at + bytes > VALUE_BYTES) {
            throw new IllegalStateException("kernel arguments exceed " + VALUE_BYTES + " bytes");
        }
        used = (int) (at + bytes);
        MemorySegment s = values.asSlice(at, bytes);
        pointers.setAtIndex(ValueLayout.ADDRESS, count++, s);
        return s;
    }
}

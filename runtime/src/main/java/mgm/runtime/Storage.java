package mgm.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A block of bytes that tensors view: an off-heap allocation, a region of a memory-mapped file,
 * or device memory (then the segment only carries the device address and size and must never be
 * dereferenced on the host). Closing releases it through its owner, once; any later use fails
 * with a clear message instead of touching freed memory.
 */
public final class Storage implements AutoCloseable {
    private final MemorySegment segment;
    private final Device device;
    private final AutoCloseable owner;
    private volatile boolean closed;

    /**
     * @param segment the bytes (for device storage: address + size only)
     * @param device  where they live
     * @param owner   released on {@link #close()}; null when someone else owns the memory (a
     *                mapped file's arena, a caller's arena)
     */
    public Storage(MemorySegment segment, Device device, AutoCloseable owner) {
        this.segment = segment;
        this.device = device;
        this.owner = owner;
    }

    /**
     * Zero-filled host memory of {@code bytes} bytes, 64-byte aligned, owned by this storage; large
     * allocations in transparent huge pages where the OS offers them ({@link HugePageMemory}).
     */
    public static Storage allocateHost(long bytes) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = HugePageMemory.allocate(bytes, arena).orElseGet(() -> arena.allocate(Math.max(bytes, 1), 64));
            return new Storage(seg.asSlice(0, bytes), Device.CPU, arena);
        } catch (OutOfMemoryError | RuntimeException e) {
            arena.close();
            throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of off-heap memory: " + e.getMessage());
        }
    }

    /** Host memory someone else owns (e.g. a memory-mapped file whose arena outlives the tensor). */
    public static Storage wrapHost(MemorySegment segment) {
        return new Storage(segment, Device.CPU, null);
    }

    public MemorySegment segment() {
        return segment;
    }

    public Device device() {
        return device;
    }

    public long byteSize() {
        return segment.byteSize();
    }

    public boolean isAlive() {
        return !closed && segment.scope().isAlive();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (owner != null) {
            try {
                owner.close();
            } catch (Exception e) {
                throw new IllegalStateException("releasing " + byteSize() + " bytes on " + device + " failed", e);
            }
        }
    }
}

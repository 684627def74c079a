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

    /**
     * Bytes {@code [offset, end)} of a whole read-only file mapping someone else owns (its arena
     * outlives the tensors), the mapping first advised for transparent huge pages
     * ({@link HugePageMemory#adviseMapped}): weights used in place stream from the page cache, and
     * through 4 KiB mappings they pay a TLB miss and a prefetcher restart every 4 KiB. A
     * TinyLlama-shaped BF16 checkpoint read from a cold page cache decoded 15% faster advised (99% of
     * it mapped in 2 MiB pages, against 37% unadvised). The page cache keeps the folio sizes it was
     * filled with, so a file it already holds (e.g. just written) is mapped as it is.
     */
    public static Storage wrapMappedFile(MemorySegment mapping, long offset) {
        HugePageMemory.adviseMapped(mapping);
        return wrapHost(mapping.asSlice(offset));
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

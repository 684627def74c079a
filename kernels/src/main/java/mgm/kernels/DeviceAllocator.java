package mgm.kernels;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;

/**
 * A caching allocator over {@link Driver#malloc}: released blocks are kept by size class and
 * handed out again, so that steady-state work (a decode loop, a graph replay) never calls the
 * driver. Sizes round up to 512 B below 1 MiB, to 64 KiB below 64 MiB, to 2 MiB above; a
 * request takes a cached block of its class or of a class at most 1/8 larger. When the device is
 * full the cache is returned to the driver and the allocation retried once.
 *
 * <p>All work runs on the backend's single stream, so a block released after queuing the
 * kernels that use it can be handed to later kernels at once: they run after those.
 */
final class DeviceAllocator {
    /** A block of device memory: its address and the (rounded) size it was allocated with. */
    record Block(long address, long size) {}

    private final Driver driver;
    private final TreeMap<Long, ArrayDeque<Long>> cache = new TreeMap<>();
    private long cachedBytes;
    private long inUseBytes;
    private long peakBytes;
    private long driverCalls;

    DeviceAllocator(Driver driver) {
        this.driver = driver;
    }

    static long sizeClass(long bytes) {
        long b = Math.max(bytes, 1);
        long unit = b < (1L << 20) ? 512 : b < (64L << 20) ? (64L << 10) : (2L << 20);
        return (b + unit - 1) / unit * unit;
    }

    synchronized Block allocate(long bytes) {
        long size = sizeClass(bytes);
        Map.Entry<Long, ArrayDeque<Long>> e = cache.ceilingEntry(size);
        if (e != null && e.getKey() <= size + size / 8) {
            long address = e.getValue().pop();
            if (e.getValue().isEmpty()) {
                cache.remove(e.getKey());
            }
            cachedBytes -= e.getKey();
            return use(new Block(address, e.getKey()));
        }
        long address;
        try {
            address = driver.malloc(size);
        } catch (DeviceMemoryException first) {
            releaseCached();
            try {
                address = driver.malloc(size);
            } catch (DeviceMemoryException second) {
                throw new DeviceMemoryException("cannot allocate " + human(bytes) + " on " + driver.info().name() + ": "
                        + human(inUseBytes) + " in use by tensors (" + second.getMessage() + ")");
            }
        }
        driverCalls++;
        return use(new Block(address, size));
    }

    private Block use(Block b) {
        inUseBytes += b.size();
        peakBytes = Math.max(peakBytes, inUseBytes);
        return b;
    }

    synchronized void release(Block b) {
        cache.computeIfAbsent(b.size(), k -> new ArrayDeque<>()).push(b.address());
        cachedBytes += b.size();
        inUseBytes -= b.size();
    }

    /** Returns every cached block to the driver. */
    synchronized void releaseCached() {
        for (Map.Entry<Long, ArrayDeque<Long>> e : cache.entrySet()) {
            for (long a : e.getValue()) {
                driver.free(a);
            }
        }
        cache.clear();
        cachedBytes = 0;
    }

    synchronized long inUseBytes() {
        return inUseBytes;
    }

    synchronized long cachedBytes() {
        return cachedBytes;
    }

    synchronized long peakBytes() {
        return peakBytes;
    }

    /** How many blocks came from the driver (not from the cache). */
    synchronized long driverAllocations() {
        return driverCalls;
    }

    static String human(long bytes) {
        if (bytes >= (1L << 30)) {
            return String.format("%.2f GiB", bytes / (double) (1L << 30));
        }
        if (bytes >= (1L << 20)) {
            return String.format("%.1f MiB", bytes / (double) (1L << 20));
        }
        return bytes + " B";
    }
}

package mgm.runtime.profile;

import java.util.Arrays;

/**
 * The slices one thread recorded for a trace, in parallel primitive arrays (no object per slice):
 * start and end in {@link System#nanoTime()} units, a name and a detail from the profiler's
 * {@link NameTable}, a category, a track (the thread itself, or a device stream), and bytes / FLOPs
 * for ops. Device slices are added with unknown times ({@code -1}) and filled in when their events
 * are resolved. Holds at most {@code capacity} slices; later ones are counted as dropped.
 */
final class TraceBuffer {
    static final byte PHASE = 0;
    static final byte LAYER = 1;
    static final byte OP = 2;

    private final int capacity;
    private int size;
    private long dropped;
    private long[] start = new long[256];
    private long[] end = new long[256];
    private long[] bytes = new long[256];
    private long[] flops = new long[256];
    private int[] name = new int[256];
    private int[] detail = new int[256];
    private byte[] category = new byte[256];
    private byte[] track = new byte[256];

    TraceBuffer(int capacity) {
        this.capacity = capacity;
    }

    /** Appends a slice; returns its index, or -1 when the buffer is full. */
    int add(long startNanos, long endNanos, int nameId, int detailId, byte cat, byte trackId, long b, long f) {
        if (size == capacity) {
            dropped++;
            return -1;
        }
        if (size == start.length) {
            int n = (int) Math.min(capacity, 2L * size);
            start = Arrays.copyOf(start, n);
            end = Arrays.copyOf(end, n);
            bytes = Arrays.copyOf(bytes, n);
            flops = Arrays.copyOf(flops, n);
            name = Arrays.copyOf(name, n);
            detail = Arrays.copyOf(detail, n);
            category = Arrays.copyOf(category, n);
            track = Arrays.copyOf(track, n);
        }
        int i = size++;
        start[i] = startNanos;
        end[i] = endNanos;
        name[i] = nameId;
        detail[i] = detailId;
        category[i] = cat;
        track[i] = trackId;
        bytes[i] = b;
        flops[i] = f;
        return i;
    }

    void setTimes(int i, long startNanos, long endNanos) {
        start[i] = startNanos;
        end[i] = endNanos;
    }

    int size() {
        return size;
    }

    long dropped() {
        return dropped;
    }

    long start(int i) {
        return start[i];
    }

    long end(int i) {
        return end[i];
    }

    int name(int i) {
        return name[i];
    }

    int detail(int i) {
        return detail[i];
    }

    byte category(int i) {
        return category[i];
    }

    byte track(int i) {
        return track[i];
    }

    long bytes(int i) {
        return bytes[i];
    }

    long flops(int i) {
        return flops[i];
    }
}

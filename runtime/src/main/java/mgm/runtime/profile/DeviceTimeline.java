package mgm.runtime.profile;

import java.util.Arrays;

/**
 * The device events of one stream awaiting resolution: pairs recorded around ops and regions by
 * the host thread that issued them, turned into durations (for the report) and slices on the
 * stream's trace track in batches, never one by one. Trace positions are measured from one anchor
 * event recorded on an idle stream when the backend was wrapped; as event timestamps on a stream are
 * monotonic and float rounding is too, slices keep their nesting.
 */
final class DeviceTimeline implements AutoCloseable {
    /** Pending pairs beyond which the older half is resolved (they have almost surely completed). */
    static final int MAX_PENDING = 8192;

    private final DeviceTimer timer;
    private final long anchorEvent;
    private final long anchorHostNanos;
    private final byte track;

    private int size;
    private long[] starts = new long[64];
    private long[] ends = new long[64];
    private Object[] stats = new Object[64];
    private ThreadRecorder[] owners = new ThreadRecorder[64];
    private int[] slices = new int[64];
    private long resolutions;
    private volatile boolean closed;

    /** Call on an idle stream (after the backend's synchronize()), so the anchor runs at once. */
    DeviceTimeline(DeviceTimer timer, byte track) {
        this.timer = timer;
        this.track = track;
        this.anchorEvent = timer.record();
        this.anchorHostNanos = System.nanoTime();
        if (anchorEvent == DeviceTimer.NOT_RECORDED) {
            throw new IllegalStateException("profiler: " + timer.streamName() + " recorded no anchor event");
        }
    }

    /** False once closed (its backend is closing): later ops are timed on the host only. */
    boolean isOpen() {
        return !closed;
    }

    DeviceTimer timer() {
        return timer;
    }

    byte track() {
        return track;
    }

    String streamName() {
        return timer.streamName();
    }

    /** How many batches were resolved (tests check that ops do not synchronise one by one). */
    synchronized long resolutions() {
        return resolutions;
    }

    synchronized int pending() {
        return size;
    }

    /**
     * Queues a pair: {@code opStats} (an {@link OpStats}, or null for a region) gets the duration;
     * {@code slice} (or -1) of {@code owner}'s trace gets the position.
     */
    synchronized void add(long start, long end, OpStats opStats, ThreadRecorder owner, int slice) {
        if (size == starts.length) {
            int n = 2 * size;
            starts = Arrays.copyOf(starts, n);
            ends = Arrays.copyOf(ends, n);
            stats = Arrays.copyOf(stats, n);
            owners = Arrays.copyOf(owners, n);
            slices = Arrays.copyOf(slices, n);
        }
        starts[size] = start;
        ends[size] = end;
        stats[size] = opStats;
        owners[size] = owner;
        slices[size] = slice;
        size++;
        if (size > MAX_PENDING) {
            resolve(size / 2);
        }
    }

    /** Resolves every pending pair (waits for the last one to complete on the device). */
    synchronized void resolveAll() {
        if (size > 0) {
            resolve(size);
        }
    }

    private void resolve(int count) {
        resolutions++;
        for (int i = 0; i < count; i++) {
            long s = starts[i];
            long e = ends[i];
            long duration = Math.max(0, timer.elapsedNanos(s, e));
            long at = anchorHostNanos + timer.elapsedNanos(anchorEvent, s);
            long until = Math.max(at, anchorHostNanos + timer.elapsedNanos(anchorEvent, e));
            ThreadRecorder owner = owners[i];
            owner.deviceResolved((OpStats) stats[i], duration, slices[i], at, until);
            timer.release(s);
            timer.release(e);
        }
        int rest = size - count;
        System.arraycopy(starts, count, starts, 0, rest);
        System.arraycopy(ends, count, ends, 0, rest);
        System.arraycopy(stats, count, stats, 0, rest);
        System.arraycopy(owners, count, owners, 0, rest);
        System.arraycopy(slices, count, slices, 0, rest);
        Arrays.fill(stats, rest, size, null);
        Arrays.fill(owners, rest, size, null);
        size = rest;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        resolveAll();
        timer.release(anchorEvent);
        timer.close();
    }
}

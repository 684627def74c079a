package mgm.runtime.profile;

/**
 * How an asynchronous backend (CUDA) lets the profiler time its ops on the device without
 * synchronising after each one: the profiler records an event on the backend's stream before and
 * after every op (and at every phase / layer boundary), keeps the pairs pending, and resolves them
 * in batches: when a phase ends (the host has waited for its result anyway), when many are pending,
 * and before a report or trace is written. Host-side wall time still goes around each call, so the
 * trace shows both the launch on the host thread and the execution on the stream's own track.
 *
 * <p>A backend offers a timer by implementing {@link Source}; {@link ProfilingBackend} asks for it
 * once when it wraps the backend. The CUDA backend's implementation maps the methods onto
 * {@code cuEventCreate} / {@code cuEventRecord} on its stream / {@code cuEventElapsedTime} (which
 * waits for the later event only) / {@code cuEventDestroy}, and {@link #roofline()} onto the
 * device's attributes (memory clock × bus width × 2 for bandwidth; SMs × clock × FMA lanes × 2, or
 * the tensor-core rate, for FLOP/s). Events must not be recorded while the stream is being
 * captured into a graph: return {@link #NOT_RECORDED} then, and the op is timed on the host only.
 */
public interface DeviceTimer extends AutoCloseable {

    /** Returned by {@link #record()} when no event could be recorded (e.g. during graph capture). */
    long NOT_RECORDED = -1;

    /** Implemented by backends whose ops run asynchronously on a device. */
    interface Source {
        /** A new timer on this backend's stream, owned by the caller; null when timing is not possible. */
        DeviceTimer openTimer();
    }

    /** The track name of the stream in traces, e.g. {@code cuda:0 stream}. */
    String streamName();

    /** The device's reported peaks; the profiler uses them instead of probing the CPU. */
    Roofline roofline();

    /** Records a timestamp event on the stream after the work queued so far; never waits. */
    long record();

    /**
     * Nanoseconds of device time between two recorded events; may wait until {@code end} has
     * completed on the device, never for later work.
     */
    long elapsedNanos(long start, long end);

    /** Gives an event back (to a pool, or destroys it). */
    void release(long event);

    /** Releases every event and resource of this timer. */
    @Override
    void close();
}

package mgm.runtime.profile;

/**
 * The accumulated calls of one op signature within one phase: calls, time, bytes, FLOPs.
 * Guarded by the lock of the recorder that owns it.
 */
final class OpStats {
    final OpSample signature;
    final String label;
    /** Id of {@link #label} in the profiler's name table (the trace's "shape" argument). */
    final int labelId;
    long calls;
    long nanos;
    long bytes;
    long flops;
    long minNanos = Long.MAX_VALUE;
    long maxNanos;

    OpStats(OpSample signature, String label, int labelId) {
        this.signature = signature;
        this.label = label;
        this.labelId = labelId;
    }

    void addCall(long b, long f) {
        calls++;
        bytes += b;
        flops += f;
    }

    void addTime(long ns) {
        nanos += ns;
        minNanos = Math.min(minNanos, ns);
        maxNanos = Math.max(maxNanos, ns);
    }

    /** Adds another recorder's row of the same signature (report merging). */
    void merge(OpStats o) {
        calls += o.calls;
        nanos += o.nanos;
        bytes += o.bytes;
        flops += o.flops;
        minNanos = Math.min(minNanos, o.minNanos);
        maxNanos = Math.max(maxNanos, o.maxNanos);
    }

    OpStats copy() {
        OpStats c = new OpStats(signature, label, labelId);
        c.merge(this);
        return c;
    }
}

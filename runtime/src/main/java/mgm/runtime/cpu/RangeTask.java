package mgm.runtime.cpu;

/**
 * A task over the index range {@code [0, total)} split into chunks of {@code grain} indices.
 * Subclasses hold the call's arguments in fields (set before {@link WorkerPool#run}) so that a
 * call allocates nothing.
 */
abstract class RangeTask implements WorkerPool.Task {
    private long total;
    private long grain;

    /** Sets the range and returns the chunk count. */
    final int split(long total, long grain) {
        this.total = total;
        this.grain = Math.max(1, grain);
        return (int) ((total + this.grain - 1) / this.grain);
    }

    /** A grain that gives each of {@code threads} threads a few chunks but no chunk below {@code minGrain}. */
    static long grainFor(long total, int threads, long minGrain) {
        long g = (total + 4L * threads - 1) / (4L * threads);
        return Math.max(minGrain, g);
    }

    @Override
    public final void run(int chunk, int worker) {
        long from = chunk * grain;
        range(from, Math.min(total, from + grain), worker);
    }

    abstract void range(long from, long to, int worker);
}

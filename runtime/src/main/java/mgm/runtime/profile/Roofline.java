package mgm.runtime.profile;

/**
 * The two ceilings of a machine that bound every op: memory bandwidth and peak arithmetic rate.
 * An op of arithmetic intensity {@code I = flops / bytes} can at best reach
 * {@code min(peakFlops, I · bandwidth)} FLOP/s; an op without FLOPs (a copy) at best moves
 * {@code bandwidth} bytes/s.
 *
 * @param bandwidth bytes per second (streaming reads), positive
 * @param peakFlops FLOP per second (F32 FMAs counted as 2), positive
 * @param source    where the numbers came from, for the report header
 */
public record Roofline(double bandwidth, double peakFlops, String source) {

    public Roofline {
        if (!(bandwidth > 0) || !(peakFlops > 0)) {
            throw new IllegalArgumentException("roofline needs a positive bandwidth and peak FLOP/s, got "
                    + bandwidth + " B/s and " + peakFlops + " FLOP/s");
        }
    }

    /** Arithmetic intensity (FLOP per byte) at which the two ceilings meet. */
    public double ridgePoint() {
        return peakFlops / bandwidth;
    }

    /**
     * The share of the attainable rate that {@code bytes} and {@code flops} done in {@code nanos}
     * reached: achieved FLOP/s over {@code min(peak, I · bandwidth)}, or for ops without FLOPs achieved
     * bytes/s over the bandwidth. 0 when nothing was measured.
     */
    public double fractionOfRoof(long bytes, long flops, long nanos) {
        if (nanos <= 0) {
            return 0;
        }
        double seconds = nanos * 1e-9;
        if (flops == 0) {
            return bytes / seconds / bandwidth;
        }
        double attainable = bytes == 0 ? peakFlops : Math.min(peakFlops, (double) flops / bytes * bandwidth);
        return flops / seconds / attainable;
    }

    /** True when an op of this cost is limited by memory traffic rather than arithmetic. */
    public boolean memoryBound(long bytes, long flops) {
        return flops == 0 || (bytes > 0 && (double) flops / bytes < ridgePoint());
    }

    /** e.g. {@code 12.4 GB/s, 150.2 GFLOP/s (measured: ...)}. */
    public String describe() {
        return String.format("%.1f GB/s, %.1f GFLOP/s, ridge %.1f FLOP/byte (%s)", bandwidth / 1e9, peakFlops / 1e9,
                ridgePoint(), source);
    }
}

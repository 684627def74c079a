package mgm.runtime.profile;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.HostMemory;
import mgm.runtime.Storage;

import static jdk.incubator.vector.VectorOperators.ADD;

/**
 * Measures this machine's roofline in a fraction of a second, on all cores: the streaming-read
 * bandwidth of a buffer far larger than the caches, and the F32 FMA rate of a loop that keeps its
 * operands in vector registers. Each probe runs repeated rounds (every thread does one chunk of work
 * between two barriers) until its time budget is spent and keeps the fastest round, so JIT warm-up
 * and a noisy neighbour cost rounds, not accuracy.
 *
 * <p>System properties {@code mgm.profile.bandwidth} (GB/s) and {@code mgm.profile.flops} (GFLOP/s)
 * replace the measurements (e.g. with a machine's datasheet figures).
 */
public final class MachineProbe {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    /** Independent FMA chains: enough to cover FMA latency × ports on current x86 and ARM cores. */
    private static final int CHAINS = 12;

    private MachineProbe() {}

    /** The roofline of this machine: properties where set, measurements otherwise (0.2 s to 1 s, see the class doc). */
    public static Roofline measure() {
        int threads = Runtime.getRuntime().availableProcessors();
        Double bwProp = gigaProperty("mgm.profile.bandwidth");
        Double flopsProp = gigaProperty("mgm.profile.flops");
        long buffer = probeBufferBytes(threads, HostMemory.availableBytes());
        double bw = bwProp != null ? bwProp : streamingReadBandwidth(threads, buffer, 150_000_000L);
        double flops = flopsProp != null ? flopsProp : peakFmaFlops(threads, 100_000_000L);
        String source = (bwProp != null ? "bandwidth from -Dmgm.profile.bandwidth"
                : "streaming read of " + (buffer >> 20) + " MiB")
                + ", " + (flopsProp != null ? "FLOP/s from -Dmgm.profile.flops" : SPECIES.length() + "-lane F32 FMA loop")
                + ", " + threads + " threads";
        if (flopsProp == null && threads > 1) {
            // whether the threads have cores of their own (see fmaScaling): ~30 ms more
            source += String.format(java.util.Locale.ROOT, " (their FMA rate %.2fx one thread's)",
                    flops / peakFmaFlops(1, 30_000_000L));
        }
        return new Roofline(bw, flops, source);
    }

    /**
     * The streaming probe's buffer: 64 MiB per thread, 512 MiB to 2 GiB, so that it is far larger
     * than the last-level cache, which on some hosts is large: a 2-vCPU VM read 128 MiB at 72-74 GB/s
     * against 58-61 for 512 MiB and 1 GiB in the same minute, 106-113 for 32 MiB (128 MiB had been
     * the size for up to 8 threads, and the rooflines of `--profile` and `mgm-run bench` read high).
     * At most an eighth of the memory available (a probe after loading a model that nearly fills the
     * machine), and 128 MiB at least.
     */
    static long probeBufferBytes(int threads, long availableBytes) {
        long wanted = Math.clamp(threads * (64L << 20), 512L << 20, 2L << 30);
        return Math.max(128L << 20, Math.min(wanted, availableBytes / 8 / (64 << 10) * (64 << 10)));
    }

    private static Double gigaProperty(String name) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            return null;
        }
        try {
            double d = Double.parseDouble(v.trim());
            if (d > 0) {
                return d * 1e9;
            }
        } catch (NumberFormatException e) {
            // falls through to the message below
        }
        throw new IllegalArgumentException("-D" + name + "=" + v + ": expected a positive number (giga units per second)");
    }

    /** Bytes/s of all threads each summing its own slice of a {@code bufferBytes} buffer, best round. */
    public static double streamingReadBandwidth(int threads, long bufferBytes, long budgetNanos) {
        long slice = bufferBytes / threads / 64 * 64;
        // the same kind of memory as tensors (huge pages where offered); every page written once, so
        // that no read is served by the kernel's shared zero page
        try (Storage storage = Storage.allocateHost(slice * threads)) {
            MemorySegment buffer = storage.segment();
            buffer.fill((byte) 1);
            MemorySegment warm = buffer.asSlice(0, 64 << 10);
            for (int i = 0; i < 500; i++) {
                sumLongs(warm);  // compile the loop before timing rounds over the big buffer
            }
            long best = rounds(threads, budgetNanos, t -> sumLongs(buffer.asSlice(t * slice, slice)));
            return (double) slice * threads / (best * 1e-9);
        }
    }

    /**
     * How the threads' FMA rate scales: {@code threads} threads' rate over one thread's (best rounds,
     * {@code budgetNanos} each). About {@code threads} when each thread has a core of its own; near 1
     * when the threads share one physical core (SMT siblings: a 2-vCPU VM placed on one core's two
     * hardware threads reads 1.1-1.2). Stable on real hardware; a VM's host may move its vCPUs
     * between these placements within a second, and every compute-bound kernel's two-thread speed
     * moves with it, so there a reading is a hint about the moment it was taken, not about a run.
     */
    public static double fmaScaling(int threads, long budgetNanos) {
        double all = peakFmaFlops(threads, budgetNanos);
        return all / peakFmaFlops(1, budgetNanos);
    }

    /**
     * FLOP/s of all threads running register-resident FMA chains, best round. The Vector API runs
     * a hundred times slower until C2 has compiled the loop, so the loop is first called in small
     * pieces until it runs at a compiled speed (at most {@link #WARM_UP_LIMIT_NANOS}).
     */
    public static double peakFmaFlops(int threads, long budgetNanos) {
        warmUpFmaLoop();
        int iterations = 50_000;
        long best = rounds(threads, budgetNanos, t -> Float.floatToRawIntBits(fmaLoop(iterations)));
        return 2.0 * CHAINS * SPECIES.length() * iterations * threads / (best * 1e-9);
    }

    private static final long WARM_UP_LIMIT_NANOS = 3_000_000_000L;

    private static void warmUpFmaLoop() {
        // 24 iterations a call reaches C2's invocation + back-edge threshold after ~600 calls.
        int iterations = 24;
        double flopsPerCall = 2.0 * CHAINS * SPECIES.length() * iterations;
        long deadline = System.nanoTime() + WARM_UP_LIMIT_NANOS;
        float sink = 0;
        while (System.nanoTime() < deadline) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 256; i++) {
                sink += fmaLoop(iterations);
            }
            double rate = 256 * flopsPerCall / Math.max(1, System.nanoTime() - t0) * 1e9;
            if (rate > 4e9) {  // interpreted or C1 code stays far below 1 GFLOP/s
                break;
            }
        }
        if (sink == 42) {
            System.out.print("");
        }
    }

    /** Runs rounds of {@code work(threadIndex)} on all threads until the budget is spent; the fastest round's nanos. */
    private static long rounds(int threads, long budgetNanos, Work work) {
        AtomicLong sink = new AtomicLong();
        long[] roundStart = new long[1];
        long[] best = {Long.MAX_VALUE};
        boolean[] stop = {false};
        long deadline = System.nanoTime() + budgetNanos;
        int[] round = {0};
        CyclicBarrier barrier = new CyclicBarrier(threads, () -> {
            long now = System.nanoTime();
            if (round[0]++ > 0) {
                best[0] = Math.min(best[0], now - roundStart[0]);
            }
            stop[0] = (now > deadline && round[0] > 2) || round[0] > 1000;
            roundStart[0] = System.nanoTime();
        });
        Thread[] pool = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            int index = i;
            pool[i] = Thread.ofPlatform().daemon().name("mgm-roofline-probe-" + i).start(() -> {
                try {
                    barrier.await();
                    while (!stop[0]) {
                        sink.addAndGet(work.run(index));
                        barrier.await();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException("roofline probe interrupted", e);
                }
            });
        }
        for (Thread t : pool) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("roofline probe interrupted", e);
            }
        }
        if (sink.get() == 42) {
            System.out.print("");  // keeps the sums alive
        }
        return best[0];
    }

    private interface Work {
        long run(int threadIndex);
    }

    /**
     * The sum of segment s read as floats with vector loads, four independent chains (the tail past
     * a multiple of four vectors is left out): the streaming-read loop of the self-check and the
     * benchmarks' bandwidth probe. Each load is the receiver of its add and the running sum its
     * argument: a method called on the loop-carried sum would be bound through the library's
     * JVM-wide profile, which other vector sizes can make polymorphic (C2 then boxes the sums).
     */
    public static float streamingSum(MemorySegment s) {
        FloatVector a0 = FloatVector.zero(SPECIES), a1 = FloatVector.zero(SPECIES), a2 = FloatVector.zero(SPECIES), a3 = FloatVector.zero(SPECIES);
        long step = SPECIES.vectorByteSize();
        long n = s.byteSize() / (4 * step) * (4 * step);
        for (long o = 0; o < n; o += 4 * step) {
            a0 = FloatVector.fromMemorySegment(SPECIES, s, o, ByteOrder.LITTLE_ENDIAN).add(a0);
            a1 = FloatVector.fromMemorySegment(SPECIES, s, o + step, ByteOrder.LITTLE_ENDIAN).add(a1);
            a2 = FloatVector.fromMemorySegment(SPECIES, s, o + 2 * step, ByteOrder.LITTLE_ENDIAN).add(a2);
            a3 = FloatVector.fromMemorySegment(SPECIES, s, o + 3 * step, ByteOrder.LITTLE_ENDIAN).add(a3);
        }
        return a0.lanewise(ADD, a1).lanewise(ADD, a2.lanewise(ADD, a3)).reduceLanes(ADD);
    }

    private static long sumLongs(MemorySegment s) {
        long a = 0, b = 0, c = 0, d = 0;
        long n = s.byteSize() / 8 / 4 * 4;
        for (long i = 0; i < n; i += 4) {
            a += s.getAtIndex(LONG, i);
            b += s.getAtIndex(LONG, i + 1);
            c += s.getAtIndex(LONG, i + 2);
            d += s.getAtIndex(LONG, i + 3);
        }
        return a + b + c + d;
    }

    private static float fmaLoop(int iterations) {
        FloatVector m = FloatVector.broadcast(SPECIES, 0.999999f);
        FloatVector c = FloatVector.broadcast(SPECIES, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(SPECIES, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        FloatVector a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < iterations; i++) {
            a0 = m.fma(a0, c);  // m a + c: the accumulator as an argument (see streamingSum)
            a1 = m.fma(a1, c);
            a2 = m.fma(a2, c);
            a3 = m.fma(a3, c);
            a4 = m.fma(a4, c);
            a5 = m.fma(a5, c);
            a6 = m.fma(a6, c);
            a7 = m.fma(a7, c);
            a8 = m.fma(a8, c);
            a9 = m.fma(a9, c);
            a10 = m.fma(a10, c);
            a11 = m.fma(a11, c);
        }
        return a0.lanewise(ADD, a1).lanewise(ADD, a2).lanewise(ADD, a3).lanewise(ADD, a4).lanewise(ADD, a5).lanewise(ADD, a6)
                .lanewise(ADD, a7).lanewise(ADD, a8).lanewise(ADD, a9).lanewise(ADD, a10).lanewise(ADD, a11).reduceLanes(ADD);
    }
}

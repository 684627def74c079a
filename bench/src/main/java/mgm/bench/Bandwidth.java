package mgm.bench;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import mgm.runtime.Storage;

/**
 * Streaming-read bandwidth probe: {@code threads} threads each sum their half (third, ...) of a
 * buffer far larger than the last-level cache with vector loads. The roofline for GEMV: a decode
 * matmul cannot read its weights faster than this.
 */
final class Bandwidth implements AutoCloseable {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** The same kind of memory as tensors (huge pages where the OS offers them), so that ratios compare like with like. */
    private final Storage storage;
    private final MemorySegment buffer;
    private final int threads;
    private final Thread[] workers;
    private final float[] sums;

    Bandwidth(long bytes, int threads) {
        this.storage = Storage.allocateHost(bytes);
        this.buffer = storage.segment();
        for (long i = 0; i < bytes; i += 4096) {
            buffer.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) 1); // fault every page in
        }
        this.threads = threads;
        this.workers = new Thread[threads];
        this.sums = new float[threads];
    }

    long bytes() {
        return buffer.byteSize();
    }

    /** One pass over the buffer on all threads; returns seconds. */
    double pass() throws InterruptedException {
        long chunk = buffer.byteSize() / threads / 256 * 256;
        long t0 = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = new Thread(() -> sums[id] = sum(buffer, id * chunk, (id + 1) * chunk));
            workers[t].start();
        }
        for (Thread w : workers) {
            w.join();
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    static float sum(MemorySegment seg, long from, long to) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        long step = F.vectorByteSize();
        MemorySegment s = seg.asSlice(from, to - from);
        long n = s.byteSize() / (4 * step) * (4 * step);
        for (long o = 0; o < n; o += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, s, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, s, o + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, s, o + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, s, o + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /** Median streaming bandwidth over {@code passes} passes, in GB/s (after warm-up). */
    double measure(int passes) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            pass();
        }
        double[] t = new double[passes];
        for (int i = 0; i < passes; i++) {
            t[i] = pass();
        }
        return buffer.byteSize() / Stats.median(t) / 1e9;
    }

    @Override
    public void close() {
        storage.close();
    }
}

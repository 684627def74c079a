package mgm.bench;

import java.lang.foreign.MemorySegment;

import mgm.runtime.Storage;
import mgm.runtime.profile.MachineProbe;

/**
 * Streaming-read bandwidth probe: {@code threads} threads each sum their half (third, ...) of a
 * buffer far larger than the last-level cache with vector loads. The roofline for GEMV: a decode
 * matmul cannot read its weights faster than this.
 */
final class Bandwidth implements AutoCloseable {
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
            workers[t] = new Thread(() -> sums[id] = MachineProbe.streamingSum(buffer.asSlice(id * chunk, chunk)));
            workers[t].start();
        }
        for (Thread w : workers) {
            w.join();
        }
        return (System.nanoTime() - t0) / 1e9;
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

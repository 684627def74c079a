package mgm.runtime.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of worker threads that, together with the calling thread, run the chunks of one
 * {@link Task} at a time. Chunks are claimed from a shared counter (dynamic scheduling: a core
 * slowed by another process simply takes fewer chunks). Nothing is allocated per run: the caller
 * passes a long-lived task object whose fields describe the work.
 *
 * <p>Workers spin briefly after a run (ops arrive back to back during decoding), then park.
 * One run at a time: callers serialise (CpuBackend's op methods are synchronized).
 */
final class WorkerPool implements AutoCloseable {

    /** One parallel job; {@code worker} is 0 for the caller and 1..n-1 for pool threads (index into per-thread scratch). */
    interface Task {
        void run(int chunk, int worker);
    }

    private static final int SPIN_BEFORE_PARK = 1 << 14;

    private final Thread[] workers;
    private final AtomicInteger nextChunk = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private volatile Task task;
    private volatile int chunks;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Throwable failure;

    WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("cpu backend: thread count must be >= 1, got " + threads);
        }
        workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int index = i + 1;
            Thread t = new Thread(() -> workerLoop(index), "mgm-cpu-" + index);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    int threads() {
        return workers.length + 1;
    }

    /** Runs chunks {@code 0 .. n-1} of {@code t} on all threads and returns when all are done. */
    void run(Task t, int n) {
        if (n <= 0) {
            return;
        }
        if (closed) {
            throw new IllegalStateException("cpu backend: used after close()");
        }
        if (workers.length == 0 || n == 1) {
            for (int c = 0; c < n; c++) {
                t.run(c, 0);
            }
            return;
        }
        failure = null;
        task = t;
        chunks = n;
        nextChunk.set(0);
        running.set(workers.length);
        generation++; // volatile write publishes task/chunks to the workers
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        try {
            drain(t, n, 0);
        } catch (Throwable e) {
            failure = e;
            nextChunk.set(n); // let the workers stop early
        }
        int spins = 0;
        while (running.get() != 0) {
            if (++spins < SPIN_BEFORE_PARK) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        task = null;
        Throwable f = failure;
        if (f != null) {
            failure = null;
            if (f instanceof RuntimeException re) {
                throw re;
            }
            if (f instanceof Error er) {
                throw er;
            }
            throw new IllegalStateException(f);
        }
    }

    private void drain(Task t, int n, int worker) {
        for (int c = nextChunk.getAndIncrement(); c < n; c = nextChunk.getAndIncrement()) {
            t.run(c, worker);
        }
    }

    private void workerLoop(int index) {
        long seen = 0;
        while (true) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (++spins < SPIN_BEFORE_PARK) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, 1_000_000L);
                }
            }
            if (closed) {
                return;
            }
            seen = generation;
            Task t = task;
            try {
                if (t != null) {
                    drain(t, chunks, index);
                }
            } catch (Throwable e) {
                failure = e;
                nextChunk.set(Integer.MAX_VALUE / 2);
            } finally {
                running.decrementAndGet();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}

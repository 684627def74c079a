package mgm.tools.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingDeque;

/**
 * One thread that runs everything touching the model (loading, then one generation at a time), and
 * a bounded number of admitted requests: the one generating plus at most {@code waitingCapacity}
 * waiting. {@link #admit} refuses with 429 and a Retry-After estimate when all slots are taken.
 * A slot is taken before the request body is read, so memory stays bounded by the slots.
 */
final class GenerationQueue implements AutoCloseable {
    private static final Runnable STOP = () -> { };

    private final int waitingCapacity;
    private final LinkedBlockingDeque<Runnable> tasks = new LinkedBlockingDeque<>();
    private final List<Job> admitted = new ArrayList<>();
    private final Thread worker;
    private volatile Job running;
    private volatile boolean closing;
    /** Moving average of a generation's duration in seconds, for Retry-After. */
    private double averageSeconds = 1;

    GenerationQueue(int waitingCapacity) {
        this.waitingCapacity = waitingCapacity;
        // A platform thread: the model's work is long, native and CPU-bound (and a GPU context may be bound to it).
        this.worker = Thread.ofPlatform().name("mgm-generate").daemon(true).unstarted(this::loop);
        worker.start();
    }

    /** Runs {@code task} on the generation thread (e.g. loading the model, so that it is bound to that thread). */
    <T> CompletableFuture<T> call(Callable<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        tasks.add(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /** Takes a slot for a new request, or refuses with 429 (503 while stopping). */
    synchronized Job admit() {
        if (closing) {
            throw ApiError.unavailable("the server is stopping");
        }
        if (admitted.size() >= waitingCapacity + 1) {
            throw ApiError.queueFull("the server is busy: " + admitted.size() + " requests are generating or waiting "
                    + "(at most " + (waitingCapacity + 1) + "); retry later", retryAfterSeconds());
        }
        Job job = new Job();
        admitted.add(job);
        return job;
    }

    /** Queues an admitted job; {@code work} runs on the generation thread unless the job is cancelled first. */
    synchronized void start(Job job, Runnable work) {
        if (closing) {
            admitted.remove(job);
            job.post(new Job.Failed(ApiError.unavailable("the server is stopping")));
            return;
        }
        job.work = work;
        job.queuedNanos = System.nanoTime();
        tasks.add(() -> run(job));
    }

    /** Gives back the slot of a job that will not run (its request was refused). */
    synchronized void abandon(Job job) {
        admitted.remove(job);
    }

    private void run(Job job) {
        long t0 = System.nanoTime();
        try {
            if (job.isCancelled()) {
                if (job.cancelReason() == Job.CancelReason.SHUTDOWN) {
                    job.post(new Job.Failed(ApiError.unavailable("the server is stopping")));
                }
                return;
            }
            running = job;
            job.work.run();
        } catch (RuntimeException | Error e) {
            // The work reports its own failures; this is the last line, so that no request waits forever.
            job.post(new Job.Failed(ApiError.internal("generation failed: " + e)));
        } finally {
            running = null;
            synchronized (this) {
                admitted.remove(job);
                averageSeconds = 0.8 * averageSeconds + 0.2 * (System.nanoTime() - t0) / 1e9;
            }
        }
    }

    private void loop() {
        while (true) {
            Runnable task;
            try {
                task = tasks.take();
            } catch (InterruptedException e) {
                return;
            }
            if (task == STOP) {
                return;
            }
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                System.err.println("mgm-run serve: internal error on the generation thread: " + e);
            }
        }
    }

    /** Requests admitted and not generating yet. */
    synchronized int waiting() {
        return admitted.size() - (running != null ? 1 : 0);
    }

    boolean busy() {
        return running != null;
    }

    int capacity() {
        return waitingCapacity;
    }

    /** About how long until a slot frees: the average generation time. */
    synchronized long retryAfterSeconds() {
        return Math.max(1, (long) Math.ceil(averageSeconds));
    }

    @Override
    public void close() {
        close(() -> { });
    }

    /**
     * Cancels every admitted request (they answer 503), lets the generation thread finish what it is
     * doing, runs {@code last} on it (e.g. closing the model), and waits for it to stop.
     */
    void close(Runnable last) {
        List<Job> jobs;
        synchronized (this) {
            closing = true;
            jobs = List.copyOf(admitted);
        }
        for (Job j : jobs) {
            j.cancel(Job.CancelReason.SHUTDOWN);
        }
        tasks.add(last);
        tasks.add(STOP);
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

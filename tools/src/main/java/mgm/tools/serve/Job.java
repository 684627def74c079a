package mgm.tools.serve;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One admitted chat completion: the generation thread posts {@link Event}s, the request's thread
 * takes them and writes the response. Either side may cancel (the client went away, the server is
 * stopping); the generation thread then stops at the next token.
 */
final class Job {
    enum CancelReason { CLIENT_GONE, SHUTDOWN }

    /** What the generation thread reports, in order: Started, Text*, then Finished or Failed. */
    sealed interface Event permits Started, Text, Finished, Failed {}

    record Started(long queueNanos) implements Event {}

    /** A new piece of the answer (never empty). */
    record Text(String delta) implements Event {}

    record Finished(Outcome outcome) implements Event {}

    record Failed(ApiError error) implements Event {}

    final long admittedNanos = System.nanoTime();
    /** When it was queued for the model (after its request was read and checked). */
    volatile long queuedNanos;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final AtomicReference<CancelReason> cancelled = new AtomicReference<>();
    volatile Runnable work;

    void post(Event e) {
        events.add(e);
    }

    /** The next event, or null after {@code timeoutNanos}. */
    Event next(long timeoutNanos) throws InterruptedException {
        return events.poll(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    void cancel(CancelReason reason) {
        cancelled.compareAndSet(null, reason);
    }

    boolean isCancelled() {
        return cancelled.get() != null;
    }

    CancelReason cancelReason() {
        return cancelled.get();
    }
}

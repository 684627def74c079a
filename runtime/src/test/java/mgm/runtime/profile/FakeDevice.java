package mgm.runtime.profile;

import java.util.HashMap;
import java.util.Map;
import mgm.runtime.Tensor;

/**
 * An asynchronous device simulated on a virtual clock, to test the event path of the profiler
 * without a GPU: each op "runs" for a fixed time on the device clock when issued, events read the
 * device clock when recorded, and every event resolution is counted, so tests can check that
 * ops are not synchronised one by one.
 */
final class FakeDevice extends NoOpBackend implements DeviceTimer.Source {
    static final long MATMUL_NANOS = 3_000;
    static final long OTHER_NANOS = 1_000;
    /** Device idle time between ops: the host is slower at launching than the device at running. */
    static final long GAP_NANOS = 500;

    long clock = 1_000_000;
    final Map<Long, Long> events = new HashMap<>();
    long nextEvent = 1;
    int elapsedCalls;
    int openEvents;
    int synchronizations;
    boolean capturing;

    @Override
    public String name() {
        return "fake-device";
    }

    @Override
    void op() {
        super.op();
        clock += OTHER_NANOS + GAP_NANOS;
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        super.op();
        clock += MATMUL_NANOS + GAP_NANOS;
    }

    @Override
    public void synchronize() {
        synchronizations++;
    }

    @Override
    public DeviceTimer openTimer() {
        return new DeviceTimer() {
            @Override
            public String streamName() {
                return "fake:0 stream";
            }

            @Override
            public Roofline roofline() {
                return new Roofline(1e12, 50e12, "fake device datasheet");
            }

            @Override
            public long record() {
                if (capturing) {
                    return NOT_RECORDED;
                }
                long id = nextEvent++;
                events.put(id, clock);
                openEvents++;
                return id;
            }

            @Override
            public long elapsedNanos(long start, long end) {
                elapsedCalls++;
                return events.get(end) - events.get(start);
            }

            @Override
            public void release(long event) {
                if (events.remove(event) == null) {
                    throw new IllegalStateException("event " + event + " released twice");
                }
                openEvents--;
            }

            @Override
            public void close() {
            }
        };
    }
}

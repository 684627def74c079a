package mgm.kernels;

import java.util.HashSet;
import java.util.Set;
import mgm.runtime.profile.DeviceTimer;
import mgm.runtime.profile.MachineProbe;
import mgm.runtime.profile.Roofline;

/**
 * The profiler's view of the CUDA stream: CUDA events recorded on the backend's stream around
 * every op, resolved later by the profiler (never a synchronisation per op). While a graph is
 * being captured no events are recorded (the op is then timed on the host only).
 */
final class CudaEventTimer implements DeviceTimer {
    private final CudaBackend backend;
    private final Driver driver;
    /** Events not yet released, destroyed on close. */
    private final Set<Long> live = new HashSet<>();

    CudaEventTimer(CudaBackend backend) {
        this.backend = backend;
        this.driver = backend.driver();
    }

    @Override
    public String streamName() {
        return backend.device() + " stream";
    }

    /**
     * The device's peaks from its attributes (memory clock x bus width, SMs x clock x tensor-core
     * rate); the emulator runs on the host, so it gets the host's measured roofline.
     */
    @Override
    public Roofline roofline() {
        DeviceInfo info = driver.info();
        if (info.peakBandwidth() > 0 && info.peakTensorFlops() > 0) {
            return new Roofline(info.peakBandwidth(), info.peakTensorFlops(),
                    "device attributes of " + info.describe() + " (dense BF16 tensor-core FLOP/s)");
        }
        return MachineProbe.measure();
    }

    @Override
    public long record() {
        if (backend.capturing()) {
            return NOT_RECORDED;
        }
        long e = driver.recordEvent();
        live.add(e);
        return e;
    }

    @Override
    public long elapsedNanos(long start, long end) {
        return Math.round(driver.elapsedMillis(start, end) * 1e6);
    }

    @Override
    public void release(long event) {
        if (live.remove(event)) {
            driver.destroyEvent(event);
        }
    }

    @Override
    public void close() {
        for (long e : live) {
            driver.destroyEvent(e);
        }
        live.clear();
    }
}

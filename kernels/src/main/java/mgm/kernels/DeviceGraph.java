package mgm.kernels;

import java.util.List;

/**
 * A recorded sequence of ops (a CUDA graph), e.g. one decode step: {@link #replay()} runs it
 * again with one launch. When the step's scalars change (position, cache length), record it
 * again with {@link #update(Runnable)}: the executable graph is updated in place when its shape
 * is unchanged (cheap), and re-instantiated otherwise. Made by {@link CudaBackend#capture}.
 */
public final class DeviceGraph implements AutoCloseable {
    private final CudaBackend backend;
    private Driver.GraphExec exec;
    private List<DeviceAllocator.Block> kept;
    private int reinstantiations;
    private boolean closed;

    DeviceGraph(CudaBackend backend, Driver.GraphExec exec, List<DeviceAllocator.Block> kept) {
        this.backend = backend;
        this.exec = exec;
        this.kept = kept;
    }

    /** Queues the recorded work on the backend's stream. */
    public void replay() {
        checkOpen();
        backend.driver().launch(exec);
    }

    /**
     * Records {@code work} again and makes this graph run the new recording; returns true when
     * the existing executable could be updated in place.
     */
    public boolean update(Runnable work) {
        checkOpen();
        CudaBackend.Recorded r = backend.record(work);
        try {
            boolean inPlace = backend.driver().update(exec, r.graph());
            if (!inPlace) {
                Driver.GraphExec fresh = backend.driver().instantiate(r.graph());
                exec.close();
                exec = fresh;
                reinstantiations++;
            }
            backend.releaseAll(kept);  // later work is stream-ordered after earlier replays
            kept = r.kept();
            return inPlace;
        } finally {
            r.graph().close();
        }
    }

    /** How many updates needed a new executable graph. */
    public int reinstantiations() {
        return reinstantiations;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("graph is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        exec.close();
        backend.releaseAll(kept);
    }
}

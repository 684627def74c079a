package mgm.runtime.profile;

import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Device;
import mgm.runtime.Tensor;

/**
 * A {@link Backend} decorator that times every op of the backend it wraps and hands it to its
 * {@link Profiler}: wall time around the call on the host ({@link System#nanoTime}, ops of host
 * backends are synchronous), or events on the device stream when the wrapped backend is a
 * {@link DeviceTimer.Source}; bytes and FLOPs from {@link OpCost}; a trace slice, a JFR
 * {@link OpEvent} and an NVTX range when those are on. {@link #phase} and {@link #layer} open
 * regions on the calling thread.
 *
 * <p>Zero cost when off means: do not wrap (model code then calls the plain backend, whose
 * {@code phase}/{@code layer} return a constant). A wrapped backend whose profiler is
 * {@linkplain Profiler#setEnabled disabled} forwards each call after one field read and allocates
 * nothing either. Allocation, tensors and synchronisation are passed through untimed.
 */
public final class ProfilingBackend implements Backend {
    private final Backend inner;
    private final Profiler profiler;
    private final DeviceTimeline timeline;
    private final String name;

    ProfilingBackend(Backend inner, Profiler profiler, DeviceTimeline timeline) {
        this.inner = inner;
        this.profiler = profiler;
        this.timeline = timeline;
        this.name = inner.name();
    }

    /** The backend this one times. */
    public Backend unwrap() {
        return inner;
    }

    public Profiler profiler() {
        return profiler;
    }

    /** The calling thread's recorder, or null when profiling is disabled. */
    private ThreadRecorder recorder() {
        return profiler.isEnabled() ? profiler.recorder() : null;
    }

    DeviceTimeline timeline() {
        return timeline;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Device device() {
        return inner.device();
    }

    @Override
    public Tensor allocate(DType dtype, long... shape) {
        return inner.allocate(dtype, shape);
    }

    @Override
    public Tensor toDevice(Tensor t) {
        return inner.toDevice(t);
    }

    @Override
    public Tensor prepareLinear(Tensor w) {
        return inner.prepareLinear(w);
    }

    @Override
    public Tensor toHost(Tensor t) {
        return inner.toHost(t);
    }

    @Override
    public void synchronize() {
        inner.synchronize();
    }

    /** Steps run op by op here: every op is timed, which a recorded graph would hide. */
    @Override
    public RepeatedStep repeatedStep() {
        return RepeatedStep.DIRECT;
    }

    @Override
    public Scope phase(String phaseName) {
        ThreadRecorder r = recorder();
        return r == null ? Scope.NONE : r.pushPhase(phaseName, timeline);
    }

    @Override
    public Scope layer(String layerName, int index) {
        ThreadRecorder r = recorder();
        return r == null ? Scope.NONE : r.pushLayer(layerName, index, timeline);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.copy(src, dst);
            return;
        }
        long t0 = r.startOp(OpKind.COPY, timeline);
        try {
            inner.copy(src, dst);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.copy(s, src, dst);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void copyRows(Tensor src, Tensor dst, long row) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.copyRows(src, dst, row);
            return;
        }
        long t0 = r.startOp(OpKind.COPY_ROWS, timeline);
        try {
            inner.copyRows(src, dst, row);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.copyRows(s, src, dst);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void embedding(Tensor table, Tensor ids, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.embedding(table, ids, out);
            return;
        }
        long t0 = r.startOp(OpKind.EMBEDDING, timeline);
        try {
            inner.embedding(table, ids, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.embedding(s, table, ids, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.matmul(x, w, bias, out);
            return;
        }
        long t0 = r.startOp(OpKind.MATMUL, timeline);
        try {
            inner.matmul(x, w, bias, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.matmul(s, x, w, bias, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void matmuls(Tensor x, Tensor[] ws, Tensor[] biases, Tensor[] outs) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.matmuls(x, ws, biases, outs);
            return;
        }
        long t0 = r.startOp(OpKind.MATMUL, timeline);
        try {
            inner.matmuls(x, ws, biases, outs);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.matmuls(s, x, ws, biases, outs);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, float weightOffset, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.rmsNorm(x, weight, eps, weightOffset, out);
            return;
        }
        long t0 = r.startOp(OpKind.RMS_NORM, timeline);
        try {
            inner.rmsNorm(x, weight, eps, weightOffset, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.rmsNorm(s, x, weight, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.layerNorm(x, weight, bias, eps, out);
            return;
        }
        long t0 = r.startOp(OpKind.LAYER_NORM, timeline);
        try {
            inner.layerNorm(x, weight, bias, eps, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.layerNorm(s, x, weight, bias, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.softmax(x, out);
            return;
        }
        long t0 = r.startOp(OpKind.SOFTMAX, timeline);
        try {
            inner.softmax(x, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.softmax(s, x, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void rope(Tensor x, int startPos, Tensor invFreq, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.rope(x, startPos, invFreq, out);
            return;
        }
        long t0 = r.startOp(OpKind.ROPE, timeline);
        try {
            inner.rope(x, startPos, invFreq, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.rope(s, x, invFreq, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, int queryStart, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.attention(q, k, v, scale, causal, queryStart, out);
            return;
        }
        long t0 = r.startOp(OpKind.ATTENTION, timeline);
        try {
            inner.attention(q, k, v, scale, causal, queryStart, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.attention(s, q, k, v, causal, queryStart, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void windowAttention(Tensor q, Tensor map, int window, float scale, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.windowAttention(q, map, window, scale, out);
            return;
        }
        long t0 = r.startOp(OpKind.WINDOW_ATTENTION, timeline);
        try {
            inner.windowAttention(q, map, window, scale, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.windowAttention(s, q, map, window, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void activation(Activation act, Tensor x, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.activation(act, x, out);
            return;
        }
        long t0 = r.startOp(OpKind.ACTIVATION, timeline);
        try {
            inner.activation(act, x, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.activation(s, act, x, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void gatedActivation(Activation act, Tensor gate, Tensor up, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.gatedActivation(act, gate, up, out);
            return;
        }
        long t0 = r.startOp(OpKind.GATED_ACTIVATION, timeline);
        try {
            inner.gatedActivation(act, gate, up, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.gatedActivation(s, act, gate, up, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.add(a, b, out);
            return;
        }
        long t0 = r.startOp(OpKind.ADD, timeline);
        try {
            inner.add(a, b, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.add(s, a, b, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.mul(a, b, out);
            return;
        }
        long t0 = r.startOp(OpKind.MUL, timeline);
        try {
            inner.mul(a, b, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.mul(s, a, b, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.scale(x, s, out);
            return;
        }
        long t0 = r.startOp(OpKind.SCALE, timeline);
        try {
            inner.scale(x, s, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample sample = r.sample;
        OpCost.scale(sample, x, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.conv2d(x, w, bias, stride, padding, out);
            return;
        }
        long t0 = r.startOp(OpKind.CONV2D, timeline);
        try {
            inner.conv2d(x, w, bias, stride, padding, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.conv2d(s, x, w, bias, stride, padding, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int padding, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.depthwiseConv2d(x, w, bias, padding, out);
            return;
        }
        long t0 = r.startOp(OpKind.DEPTHWISE_CONV2D, timeline);
        try {
            inner.depthwiseConv2d(x, w, bias, padding, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.depthwiseConv2d(s, x, w, bias, padding, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void resizeBilinear(Tensor x, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.resizeBilinear(x, out);
            return;
        }
        long t0 = r.startOp(OpKind.RESIZE_BILINEAR, timeline);
        try {
            inner.resizeBilinear(x, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.resizeBilinear(s, x, out);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void topK(Tensor x, int k, Tensor values, Tensor indices) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.topK(x, k, values, indices);
            return;
        }
        long t0 = r.startOp(OpKind.TOP_K, timeline);
        try {
            inner.topK(x, k, values, indices);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.topK(s, x, k, values, indices);
        r.finishOp(t0, t1, name);
    }

    @Override
    public void argmax(Tensor x, Tensor out) {
        ThreadRecorder r = recorder();
        if (r == null) {
            inner.argmax(x, out);
            return;
        }
        long t0 = r.startOp(OpKind.ARGMAX, timeline);
        try {
            inner.argmax(x, out);
        } catch (Throwable e) {
            r.abortOp();
            throw e;
        }
        long t1 = r.stopOp();
        OpSample s = r.sample;
        OpCost.argmax(s, x, out);
        r.finishOp(t0, t1, name);
    }

    /** Closes the wrapped backend; the profiler's data stay readable. */
    @Override
    public void close() {
        profiler.detach(this);
        inner.close();
    }
}

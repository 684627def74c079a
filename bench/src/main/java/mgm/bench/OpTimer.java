package mgm.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Device;
import mgm.runtime.Tensor;

/**
 * A {@link Backend} that forwards every op to another (synchronous) backend and adds up the
 * wall time per op kind, plus the floating-point work of the GEMM-shaped ops (matmul with more
 * than four rows, conv2d as im2col + GEMM). It answers "where does the time go" for the
 * end-to-end reports without any profiler; the overhead is two {@code nanoTime} calls per op.
 */
final class OpTimer implements Backend {
    /** Time, calls and flops of one op kind. */
    static final class Entry {
        long nanos;
        long calls;
        double flops;
    }

    private final Backend inner;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private boolean enabled = true;

    OpTimer(Backend inner) {
        this.inner = inner;
    }

    /** Stops or resumes accounting (the ops still run). */
    void enabled(boolean on) {
        enabled = on;
    }

    void reset() {
        entries.clear();
    }

    /** A snapshot of the entries, largest time first. */
    List<Map.Entry<String, Entry>> entries() {
        List<Map.Entry<String, Entry>> l = new ArrayList<>(entries.entrySet());
        l.sort((a, b) -> Long.compare(b.getValue().nanos, a.getValue().nanos));
        return l;
    }

    /** Seconds spent in ops whose kind starts with {@code prefix}. */
    double seconds(String prefix) {
        long n = 0;
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                n += e.getValue().nanos;
            }
        }
        return n / 1e9;
    }

    double flops(String prefix) {
        double f = 0;
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                f += e.getValue().flops;
            }
        }
        return f;
    }

    double totalSeconds() {
        return seconds("");
    }

    private long start() {
        return enabled ? System.nanoTime() : 0;
    }

    private void stop(String kind, long t0, double flops) {
        if (!enabled) {
            return;
        }
        long dt = System.nanoTime() - t0;
        Entry e = entries.computeIfAbsent(kind, k -> new Entry());
        e.nanos += dt;
        e.calls++;
        e.flops += flops;
    }

    @Override
    public String name() {
        return inner.name();
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
    public Tensor toHost(Tensor t) {
        return inner.toHost(t);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        long t0 = start();
        inner.copy(src, dst);
        stop("copy", t0, 0);
    }

    @Override
    public void copyRows(Tensor src, Tensor dst, long row) {
        long t0 = start();
        inner.copyRows(src, dst, row);
        stop("copyRows", t0, 0);
    }

    @Override
    public void embedding(Tensor table, Tensor ids, Tensor out) {
        long t0 = start();
        inner.embedding(table, ids, out);
        stop("embedding", t0, 0);
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        long t0 = start();
        inner.matmul(x, w, bias, out);
        boolean gemm = x.dim(0) > 4;
        stop((gemm ? "gemm " : "gemv ") + w.dtype(), t0, 2.0 * x.dim(0) * x.dim(1) * w.dim(0));
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, float weightOffset, Tensor out) {
        long t0 = start();
        inner.rmsNorm(x, weight, eps, weightOffset, out);
        stop("rmsNorm", t0, 0);
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        long t0 = start();
        inner.layerNorm(x, weight, bias, eps, out);
        stop("layerNorm", t0, 0);
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        long t0 = start();
        inner.softmax(x, out);
        stop("softmax", t0, 0);
    }

    @Override
    public void rope(Tensor x, int startPos, Tensor invFreq, Tensor out) {
        long t0 = start();
        inner.rope(x, startPos, invFreq, out);
        stop("rope", t0, 0);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, int queryStart, Tensor out) {
        long t0 = start();
        inner.attention(q, k, v, scale, causal, queryStart, out);
        stop("attention", t0, 0);
    }

    @Override
    public void windowAttention(Tensor q, Tensor map, int window, float scale, Tensor out) {
        long t0 = start();
        inner.windowAttention(q, map, window, scale, out);
        stop("windowAttention", t0, 0);
    }

    @Override
    public void activation(Activation act, Tensor x, Tensor out) {
        long t0 = start();
        inner.activation(act, x, out);
        stop("activation " + act, t0, 0);
    }

    @Override
    public void gatedActivation(Activation act, Tensor gate, Tensor up, Tensor out) {
        long t0 = start();
        inner.gatedActivation(act, gate, up, out);
        stop("gatedActivation", t0, 0);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        long t0 = start();
        inner.add(a, b, out);
        stop("add", t0, 0);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        long t0 = start();
        inner.mul(a, b, out);
        stop("mul", t0, 0);
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        long t0 = start();
        inner.scale(x, s, out);
        stop("scale", t0, 0);
    }

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, Tensor out) {
        long t0 = start();
        inner.conv2d(x, w, bias, stride, padding, out);
        long pixels = out.dim(0) * out.dim(1) * out.dim(2);
        stop("gemm conv2d", t0, 2.0 * pixels * w.dim(0) * w.dim(1) * w.dim(2) * w.dim(3));
    }

    @Override
    public void depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int padding, Tensor out) {
        long t0 = start();
        inner.depthwiseConv2d(x, w, bias, padding, out);
        stop("depthwiseConv2d", t0, 0);
    }

    @Override
    public void resizeBilinear(Tensor x, Tensor out) {
        long t0 = start();
        inner.resizeBilinear(x, out);
        stop("resizeBilinear", t0, 0);
    }

    @Override
    public void topK(Tensor x, int k, Tensor values, Tensor indices) {
        long t0 = start();
        inner.topK(x, k, values, indices);
        stop("topK", t0, 0);
    }

    @Override
    public void argmax(Tensor x, Tensor out) {
        long t0 = start();
        inner.argmax(x, out);
        stop("argmax", t0, 0);
    }

    @Override
    public void close() {
        // the wrapped backend belongs to the caller
    }
}

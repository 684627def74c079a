package mgm.runtime.profile;

import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Device;
import mgm.runtime.Tensor;

/**
 * A host backend whose ops do nothing and allocate nothing, so that tests measure the profiling
 * decorator alone. {@link #calls} counts the ops that reached it.
 */
public class NoOpBackend implements Backend {
    long calls;

    @Override
    public String name() {
        return "no-op";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Tensor allocate(DType dtype, long... shape) {
        return Tensor.allocate(dtype, shape);
    }

    @Override
    public Tensor toDevice(Tensor t) {
        return t;
    }

    @Override
    public Tensor toHost(Tensor t) {
        return t;
    }

    void op() {
        calls++;
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        op();
    }

    @Override
    public void copyRows(Tensor src, Tensor dst, long row) {
        op();
    }

    @Override
    public void embedding(Tensor table, Tensor ids, Tensor out) {
        op();
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        op();
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, float weightOffset, Tensor out) {
        op();
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        op();
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        op();
    }

    @Override
    public void rope(Tensor x, int startPos, Tensor invFreq, Tensor out) {
        op();
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, int queryStart, Tensor out) {
        op();
    }

    @Override
    public void windowAttention(Tensor q, Tensor map, int window, float scale, Tensor out) {
        op();
    }

    @Override
    public void activation(Activation act, Tensor x, Tensor out) {
        op();
    }

    @Override
    public void gatedActivation(Activation act, Tensor gate, Tensor up, Tensor out) {
        op();
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        op();
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        op();
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        op();
    }

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, Tensor out) {
        op();
    }

    @Override
    public void depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int padding, Tensor out) {
        op();
    }

    @Override
    public void resizeBilinear(Tensor x, Tensor out) {
        op();
    }

    @Override
    public void topK(Tensor x, int k, Tensor values, Tensor indices) {
        op();
    }

    @Override
    public void argmax(Tensor x, Tensor out) {
        op();
    }
}

package mgm.bench;

import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Device;
import mgm.runtime.Tensor;

/**
 * A host backend whose ops do nothing: benchmarks of model-side and profiler-side overhead run on
 * it so that no arithmetic hides what they measure. Tensors are real (allocated zeroed).
 */
final class NoOpBackend implements Backend {
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

    @Override
    public void copy(Tensor src, Tensor dst) {}

    @Override
    public void copyRows(Tensor src, Tensor dst, long row) {}

    @Override
    public void embedding(Tensor table, Tensor ids, Tensor out) {}

    @Override
    public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {}

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, float weightOffset, Tensor out) {}

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {}

    @Override
    public void softmax(Tensor x, Tensor out) {}

    @Override
    public void rope(Tensor x, int startPos, Tensor invFreq, Tensor out) {}

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, int queryStart, Tensor out) {}

    @Override
    public void windowAttention(Tensor q, Tensor map, int window, float scale, Tensor out) {}

    @Override
    public void activation(Activation act, Tensor x, Tensor out) {}

    @Override
    public void gatedActivation(Activation act, Tensor gate, Tensor up, Tensor out) {}

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {}

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {}

    @Override
    public void scale(Tensor x, float s, Tensor out) {}

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, Tensor out) {}

    @Override
    public void depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int padding, Tensor out) {}

    @Override
    public void resizeBilinear(Tensor x, Tensor out) {}

    @Override
    public void topK(Tensor x, int k, Tensor values, Tensor indices) {}

    @Override
    public void argmax(Tensor x, Tensor out) {}
}

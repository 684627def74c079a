package mgm.runtime.cpu;

import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Device;
import mgm.runtime.Tensor;

/** TEMPORARY placeholder so that wip/cpu compiles until the coordinator's ReferenceBackend lands on main (take main's version on merge). */
public final class ReferenceBackend implements Backend {
    private static UnsupportedOperationException todo(String op) {
        return new UnsupportedOperationException(op + ": reference backend not merged yet");
    }
    @Override public String name() { return "cpu-reference"; }
    @Override public Device device() { return Device.CPU; }
    @Override public Tensor allocate(DType dtype, long... shape) { return Tensor.allocate(dtype, shape); }
    @Override public Tensor toDevice(Tensor t) { return t; }
    @Override public Tensor toHost(Tensor t) { return t; }
    @Override public void copy(Tensor src, Tensor dst) { throw todo("copy"); }
    @Override public void embedding(Tensor table, Tensor ids, Tensor out) { throw todo("embedding"); }
    @Override public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) { throw todo("matmul"); }
    @Override public void rmsNorm(Tensor x, Tensor weight, float eps, float weightOffset, Tensor out) { throw todo("rmsNorm"); }
    @Override public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) { throw todo("layerNorm"); }
    @Override public void softmax(Tensor x, Tensor out) { throw todo("softmax"); }
    @Override public void rope(Tensor x, int startPos, Tensor invFreq, Tensor out) { throw todo("rope"); }
    @Override public void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, int queryStart, Tensor out) { throw todo("attention"); }
    @Override public void activation(Activation act, Tensor x, Tensor out) { throw todo("activation"); }
    @Override public void gatedActivation(Activation act, Tensor gate, Tensor up, Tensor out) { throw todo("gatedActivation"); }
    @Override public void add(Tensor a, Tensor b, Tensor out) { throw todo("add"); }
    @Override public void mul(Tensor a, Tensor b, Tensor out) { throw todo("mul"); }
    @Override public void scale(Tensor x, float s, Tensor out) { throw todo("scale"); }
    @Override public void conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, Tensor out) { throw todo("conv2d"); }
    @Override public void depthwiseConv2d(Tensor x, Tensor w, Tensor bias, int padding, Tensor out) { throw todo("depthwiseConv2d"); }
    @Override public void resizeBilinear(Tensor x, Tensor out) { throw todo("resizeBilinear"); }
    @Override public void topK(Tensor x, int k, Tensor values, Tensor indices) { throw todo("topK"); }
    @Override public void argmax(Tensor x, Tensor out) { throw todo("argmax"); }
}

package mgm.bench;

import java.util.Random;

import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.ReferenceBackend;

/**
 * The tensors the benchmarks run on. Decode-shape weights come in enough copies to exceed the
 * last-level cache (32 MB here), and each call uses the next copy, so a GEMV measures DRAM
 * streaming like a real decode step (every layer's weights are different memory), not a cache.
 */
final class Workloads {
    private Workloads() {}

    /** Bytes of weights cycled through per GEMV shape (several times any L3 this runs on). */
    static final long ROTATION_BYTES = 256L << 20;

    static Tensor randomF32(Random r, long... shape) {
        float[] v = new float[(int) Tensor.product(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian() * 0.05f;
        }
        return Tensor.of(v, shape);
    }

    /** One [n, k] weight in {@code dtype} (quantised with the GGML quantisers). */
    static Tensor weight(Random r, DType dtype, int n, int k) {
        try (Tensor f = randomF32(r, n, k)) {
            if (dtype == DType.F32) {
                return Tensor.of(f.toFloatArray(), n, k);
            }
            Tensor w = Tensor.allocate(dtype, n, k);
            new ReferenceBackend().copy(f, w);
            return w;
        }
    }

    /** Copies of one weight (byte copies, so quantisation runs once) totalling at least {@link #ROTATION_BYTES}. */
    static Tensor[] rotation(Random r, DType dtype, int n, int k) {
        Tensor first = weight(r, dtype, n, k);
        int copies = (int) Math.max(2, (ROTATION_BYTES + first.byteSize() - 1) / first.byteSize());
        Tensor[] ws = new Tensor[copies];
        ws[0] = first;
        for (int i = 1; i < copies; i++) {
            ws[i] = Tensor.allocate(dtype, n, k);
            ws[i].segment().copyFrom(first.segment());
        }
        return ws;
    }
}

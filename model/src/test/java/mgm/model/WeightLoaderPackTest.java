package mgm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/** {@link WeightLoader#packed}: a layer's loader-made tensors moved into one allocation, unchanged in content. */
class WeightLoaderPackTest {

    private static Tensor random(DType stored, long seed, long... shape) {
        Random r = new Random(seed);
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        Tensor f = Tensor.of(v, shape);
        Tensor t = Tensor.allocate(stored, shape);
        try (CpuBackend cpu = new CpuBackend(1)) {
            cpu.copy(f, t);
        }
        f.close();
        return t;
    }

    private static byte[] bytes(Tensor t) {
        return t.segment().toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void loaderMadeTensorsMoveSideBySideWithTheirBytesAndTheRestStayAsGiven() {
        Map<String, Tensor> source = new LinkedHashMap<>();
        source.put("q.weight", random(DType.BF16, 1, 64, 96));
        source.put("down.weight", random(DType.BF16, 2, 96, 64));
        source.put("norm.weight", random(DType.BF16, 3, 96));
        source.put("embed.weight", random(DType.BF16, 4, 40, 96));
        try (CpuBackend cpu = new CpuBackend(2);
             WeightLoader loader = new WeightLoader(new MapWeights(source), cpu, WeightFormat.Q4_0)) {
            Tensor q = loader.linear("q.weight", 64, 96);
            Tensor down = loader.linear("down.weight", 96, 64);
            Tensor norm = loader.vector("norm.weight", 96);   // an F32 copy the loader owns
            Tensor embed = loader.stored("embed.weight", 40, 96);  // the source tensor itself, not the loader's
            byte[] qBytes = bytes(q), downBytes = bytes(down), normBytes = bytes(norm);

            Tensor[] p = loader.packed(q, null, down, norm, embed, q);

            assertNull(p[1]);
            assertSame(embed, p[4], "a tensor the loader did not make stays as given");
            assertSame(p[0], p[5], "a tensor listed twice moves once");
            for (int i : new int[] {0, 2, 3}) {
                assertTrue(p[i].isAlive());
                assertFalse(p[i].ownsStorage(), "the loader owns the new allocation, not its views");
            }
            assertEquals(q.dtype(), p[0].dtype());
            assertEquals(Arrays.toString(q.shape()), Arrays.toString(p[0].shape()));
            assertEquals(-1L, Arrays.mismatch(qBytes, bytes(p[0])));
            assertEquals(-1L, Arrays.mismatch(downBytes, bytes(p[2])));
            assertEquals(-1L, Arrays.mismatch(normBytes, bytes(p[3])));
            // side by side in argument order, each start 64-byte aligned
            long a0 = p[0].segment().address(), a2 = p[2].segment().address(), a3 = p[3].segment().address();
            assertEquals(a0 + (q.byteSize() + 63) / 64 * 64, a2);
            assertEquals(a2 + (down.byteSize() + 63) / 64 * 64, a3);
            assertEquals(0, a0 % 64);
            assertFalse(q.isAlive(), "the moved original is released");
            assertFalse(norm.isAlive());
            assertTrue(embed.isAlive());
            assertSame(p[0], loader.quantized().get("q.weight"), "a saved checkpoint writes the moved tensor");
            assertSame(p[2], loader.quantized().get("down.weight"));
            loader.close();
            assertFalse(p[0].isAlive(), "closing the loader releases the allocation");
        } finally {
            source.values().forEach(Tensor::close);
        }
    }

    @Test
    void fewerThanTwoMovableTensorsAreLeftAlone() {
        Map<String, Tensor> source = new LinkedHashMap<>();
        source.put("w", random(DType.BF16, 5, 32, 64));
        try (CpuBackend cpu = new CpuBackend(1);
             WeightLoader loader = new WeightLoader(new MapWeights(source), cpu, WeightFormat.Q8_0)) {
            Tensor w = loader.linear("w", 32, 64);
            Tensor[] p = loader.packed(w, null, w);
            assertSame(w, p[0]);
            assertSame(w, p[2]);
            assertTrue(w.isAlive());
        } finally {
            source.values().forEach(Tensor::close);
        }
    }
}

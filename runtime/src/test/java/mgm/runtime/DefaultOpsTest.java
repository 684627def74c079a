package mgm.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Random;
import mgm.runtime.cpu.ReferenceBackend;
import org.junit.jupiter.api.Test;

/**
 * The Backend interface's default ops (built from other ops) against the reference backend's own
 * scalar implementations.
 */
class DefaultOpsTest {
    private final ReferenceBackend reference = new ReferenceBackend();
    /** Reference ops everywhere except the default methods, which run the interface's code. */
    private final Backend defaults = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
            new Class<?>[] {Backend.class}, (InvocationHandler) (proxy, method, args) -> {
                if (method.isDefault() && !method.getName().equals("close") && !method.getName().equals("synchronize")) {
                    return InvocationHandler.invokeDefault(proxy, method, args);
                }
                try {
                    return method.invoke(reference, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });

    @Test
    void windowAttentionDefaultMatchesReference() {
        Random r = new Random(3);
        Tensor map = random(r, 6, 9, 7);
        Tensor strided = random(r, 12, 9, 7).slice(0, 3, 9); // a quadrant-like view with a row stride
        for (Tensor m : new Tensor[] {map, strided}) {
            Tensor q = random(r, 2 * 3, 7);
            Tensor want = Tensor.allocate(DType.F32, 6, 7);
            Tensor got = Tensor.allocate(DType.F32, 6, 7);
            reference.windowAttention(q, m, 3, 0.4f, want);
            defaults.windowAttention(q, m, 3, 0.4f, got);
            assertArrayEquals(want.toFloatArray(), got.toFloatArray(), 1e-6f);
        }
    }

    @Test
    void copyRowsWritesTheRowsAndRejectsOverflow() {
        Tensor dst = Tensor.allocate(DType.BF16, 5, 4);
        Tensor src = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 4);
        defaults.copyRows(src, dst, 3);
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, dst.toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> defaults.copyRows(src, dst, 4));
    }

    private static Tensor random(Random r, long... shape) {
        float[] v = new float[(int) Tensor.product(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Tensor.of(v, shape);
    }
}

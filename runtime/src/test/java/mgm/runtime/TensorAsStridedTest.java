package mgm.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TensorAsStridedTest {

    @Test
    void transposedAndOffsetViewsReadTheRightElements() {
        try (Tensor base = Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 12)) {
            // torch.arange(12.).reshape(3, 4).t(): shape [4, 3], strides [1, 4]
            Tensor t = base.asStrided(new long[] {4, 3}, new long[] {1, 4}, 0);
            assertArrayEquals(new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, t.toFloatArray());
            // reshape(3, 4)[1:, 2:]: shape [2, 2], strides [4, 1], offset 6
            Tensor s = base.asStrided(new long[] {2, 2}, new long[] {4, 1}, 6);
            assertArrayEquals(new float[] {6, 7, 10, 11}, s.toFloatArray());
            // expand: stride 0
            Tensor e = base.asStrided(new long[] {2, 3}, new long[] {0, 1}, 9);
            assertArrayEquals(new float[] {9, 10, 11, 9, 10, 11}, e.toFloatArray());
            // empty tensors may sit at the very end
            base.asStrided(new long[] {0, 5}, new long[] {5, 1}, 12);
        }
    }

    @Test
    void refusesViewsOutsideTheStorage() {
        try (Tensor base = Tensor.allocate(DType.F32, 12)) {
            assertThrows(IllegalArgumentException.class, () -> base.asStrided(new long[] {4, 3}, new long[] {1, 4}, 1));
            assertThrows(IllegalArgumentException.class, () -> base.asStrided(new long[] {2}, new long[] {-1}, 5));
            assertThrows(IllegalArgumentException.class, () -> base.asStrided(new long[] {2}, new long[] {1, 1}, 0));
            assertThrows(IllegalArgumentException.class,
                    () -> base.asStrided(new long[] {2, 2}, new long[] {Long.MAX_VALUE, 1}, 0));
            assertThrows(IllegalArgumentException.class, () -> base.asStrided(new long[] {0}, new long[] {1}, 13));
        }
    }
}

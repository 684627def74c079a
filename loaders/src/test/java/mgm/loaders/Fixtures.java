package mgm.loaders;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Objects;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/** Test resources and the comparison of loaded tensors with reference values from PyTorch. */
public final class Fixtures {
    private Fixtures() {}

    /** A file under src/test/resources. */
    public static Path resource(String name) {
        try {
            return Path.of(Objects.requireNonNull(Fixtures.class.getResource("/" + name), name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static JsonNode json(String name) {
        try {
            return new ObjectMapper().readTree(resource(name).toFile());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Asserts dtype, shape and every value of {@code t} against {@code {"dtype", "shape", "values"}}. */
    public static void assertMatches(String name, JsonNode expected, Tensor t) {
        assertEquals(DType.valueOf(expected.get("dtype").asText()), t.dtype(), name + " dtype");
        long[] shape = new long[expected.get("shape").size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = expected.get("shape").get(i).asLong();
        }
        assertArrayEquals(shape, t.shape(), name + " shape");
        JsonNode values = expected.get("values");
        assertEquals(values.size(), t.numel(), name + " numel");
        if (t.dtype().isFloatingPoint()) {
            float[] got = t.toFloatArray();
            for (int i = 0; i < got.length; i++) {
                // Exact: the reference values are the stored values converted to double by torch.
                assertEquals((float) values.get(i).asDouble(), got[i], 0f, name + "[" + i + "]");
            }
        } else {
            long[] idx = new long[t.rank()];
            for (int i = 0; i < values.size(); i++) {
                assertEquals(values.get(i).asLong(), t.getLong(idx), name + "[" + i + "]");
                for (int d = idx.length - 1; d >= 0; d--) {
                    if (++idx[d] < shape[d]) {
                        break;
                    }
                    idx[d] = 0;
                }
            }
        }
    }
}

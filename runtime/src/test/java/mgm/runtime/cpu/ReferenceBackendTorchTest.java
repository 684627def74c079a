package mgm.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import mgm.runtime.Activation;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Checks the reference backend against PyTorch on small random inputs
 * ({@code torch-ops/torch_ops.json}, made by {@code make_fixtures.py} with torch 1.13).
 * Tolerance: 2e-6 relative to the output's largest magnitude (float32 rounding of the reference's
 * double sums versus torch's float32 ones).
 */
class ReferenceBackendTorchTest {
    private static final double TOLERANCE = 2e-6;
    private final ReferenceBackend backend = new ReferenceBackend();

    @TestFactory
    Stream<DynamicTest> matchesPyTorch() throws IOException {
        JsonNode root;
        try (InputStream in = getClass().getResourceAsStream("/torch-ops/torch_ops.json")) {
            root = new ObjectMapper().readTree(in);
        }
        List<DynamicTest> tests = new ArrayList<>();
        int i = 0;
        for (JsonNode c : root.get("cases")) {
            String name = c.get("name").asText() + " #" + i++ + " " + c.get("params");
            tests.add(DynamicTest.dynamicTest(name, () -> runCase(c)));
        }
        return tests.stream();
    }

    private void runCase(JsonNode c) {
        JsonNode in = c.get("inputs");
        JsonNode p = c.get("params");
        Tensor expected = tensor(c.get("output"));
        Tensor out = Tensor.allocate(DType.F32, expected.shape());
        switch (c.get("name").asText()) {
            case "matmul" -> backend.matmul(tensor(in.get("x")), tensor(in.get("w")), tensor(in.get("bias")), out);
            case "rmsNorm" -> backend.rmsNorm(tensor(in.get("x")), tensor(in.get("weight")),
                    (float) p.get("eps").asDouble(), (float) p.get("offset").asDouble(), out);
            case "layerNorm" -> backend.layerNorm(tensor(in.get("x")), tensor(in.get("weight")),
                    tensor(in.get("bias")), (float) p.get("eps").asDouble(), out);
            case "softmax" -> backend.softmax(tensor(in.get("x")), out);
            case "rope" -> backend.rope(tensor(in.get("x")), p.get("startPos").asInt(), tensor(in.get("invFreq")), out);
            case "attention" -> backend.attention(tensor(in.get("q")), tensor(in.get("k")), tensor(in.get("v")),
                    (float) p.get("scale").asDouble(), p.get("causal").asBoolean(), p.get("queryStart").asInt(), out);
            case "activation" -> backend.activation(Activation.valueOf(p.get("act").asText()), tensor(in.get("x")), out);
            case "gatedActivation" -> backend.gatedActivation(Activation.valueOf(p.get("act").asText()),
                    tensor(in.get("gate")), tensor(in.get("up")), out);
            case "conv2d" -> backend.conv2d(tensor(in.get("x")), tensor(in.get("w")), tensor(in.get("bias")),
                    p.get("stride").asInt(), p.get("padding").asInt(), out);
            case "depthwiseConv2d" -> backend.depthwiseConv2d(tensor(in.get("x")), tensor(in.get("w")),
                    tensor(in.get("bias")), p.get("padding").asInt(), out);
            case "resizeBilinear" -> backend.resizeBilinear(tensor(in.get("x")), out);
            case "windowAttention" -> backend.windowAttention(tensor(in.get("q")), tensor(in.get("map")),
                    p.get("window").asInt(), (float) p.get("scale").asDouble(), out);
            case "topK" -> {
                int k = p.get("k").asInt();
                Tensor idx = Tensor.allocate(DType.I32, expected.shape());
                backend.topK(tensor(in.get("x")), k, out, idx);
                int[] want = new int[p.get("indices").size()];
                for (int j = 0; j < want.length; j++) {
                    want[j] = p.get("indices").get(j).asInt();
                }
                assertArrayEquals(want, idx.toIntArray());
            }
            case "argmax" -> {
                Tensor idx = Tensor.allocate(DType.I32, expected.shape());
                backend.argmax(tensor(in.get("x")), idx);
                backend.copy(idx, out);
            }
            default -> throw new AssertionError("unknown case " + c.get("name"));
        }
        assertClose(expected.toFloatArray(), out.toFloatArray());
    }

    private static void assertClose(float[] want, float[] got) {
        assertEquals(want.length, got.length);
        double scale = 0;
        for (float w : want) {
            scale = Math.max(scale, Math.abs(w));
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs(want[i] - got[i]);
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        double rel = worst / Math.max(scale, 1e-30);
        if (rel > TOLERANCE) {
            throw new AssertionError("max |diff| " + worst + " at " + at + " (want " + want[at] + ", got " + got[at]
                    + "), relative " + rel + " > " + TOLERANCE);
        }
    }

    private static Tensor tensor(JsonNode node) {
        JsonNode shape = node.get("shape");
        long[] s = new long[shape.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = shape.get(i).asLong();
        }
        JsonNode data = node.get("data");
        float[] v = new float[data.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) data.get(i).asDouble();
        }
        return Tensor.of(v, s);
    }
}

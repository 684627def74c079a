package mgm.model.vision;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mgm.model.WeightLoader;
import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * LLaVA/MGM {@code mm_projector}: {@code linear}, {@code mlpNx_gelu} (Linear, then N-1 times GELU
 * + Linear; keys {@code mm_projector.0, .2, .4 ...}) or {@code identity}. The projector is an
 * nn.Linear in the LLM checkpoint, so --load-8bit/--load-4bit quantise it, as bitsandbytes does.
 */
public final class Projector {
    private static final Pattern MLP = Pattern.compile("mlp(\\d+)x_gelu");

    private final Backend backend;
    private final List<Tensor> weights = new ArrayList<>();
    private final List<Tensor> biases = new ArrayList<>();
    private final int inDim;
    private final int outDim;

    public Projector(WeightLoader w, String prefix, String type, int inDim, int hidden) {
        this.backend = w.backend();
        this.inDim = inDim;
        this.outDim = hidden;
        String p = prefix + "mm_projector.";
        Matcher m = MLP.matcher(type);
        if (type.equals("linear")) {
            weights.add(w.linear(p + "weight", hidden, inDim));
            biases.add(w.vector(p + "bias", hidden));
        } else if (m.matches()) {
            int depth = Integer.parseInt(m.group(1));
            if (depth < 1) {
                throw new IllegalArgumentException("mm_projector_type '" + type + "' needs at least one layer");
            }
            for (int i = 0; i < depth; i++) {
                weights.add(w.linear(p + (2 * i) + ".weight", hidden, i == 0 ? inDim : hidden));
                biases.add(w.vector(p + (2 * i) + ".bias", hidden));
            }
        } else if (!type.equals("identity")) {
            throw new IllegalArgumentException("mm_projector_type '" + type + "' is not supported (linear, mlpNx_gelu, identity)");
        } else if (inDim != hidden) {
            throw new IllegalArgumentException("an identity projector needs mm_hidden_size " + inDim + " == hidden_size " + hidden);
        }
    }

    /** {@code [T, inDim] -> [T, hidden]}, owned by the caller. */
    public Tensor project(Tensor features) {
        if (features.rank() != 2 || features.dim(1) != inDim) {
            throw new IllegalArgumentException("projector input " + features.describe() + " must be [T, " + inDim + "]");
        }
        long t = features.dim(0);
        Tensor current = backend.allocate(DType.F32, t, outDim);
        if (weights.isEmpty()) {
            backend.copy(features, current);
            return current;
        }
        backend.matmul(features, weights.get(0), biases.get(0), current);
        if (weights.size() > 1) {
            try (Tensor other = backend.allocate(DType.F32, t, outDim)) {
                Tensor a = current;
                Tensor b = other;
                for (int i = 1; i < weights.size(); i++) {
                    backend.activation(Activation.GELU_ERF, a, a);
                    backend.matmul(a, weights.get(i), biases.get(i), b);
                    Tensor swap = a;
                    a = b;
                    b = swap;
                }
                if (a != current) {
                    backend.copy(a, current);
                }
            }
        }
        return current;
    }
}

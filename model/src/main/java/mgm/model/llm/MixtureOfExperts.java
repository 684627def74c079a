package mgm.model.llm;

import mgm.loaders.config.LlmConfig;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * Mixtral's sparse feed-forward block: router logits, softmax in F32, the top-k experts per token
 * with their weights renormalised to sum to one (and rounded to the activation dtype, as HF does),
 * then {@code x += sum_k w_k * w2(silu(w1 n) * w3 n)}. Tokens routed to the same expert run
 * together as one GEMM; a single token runs without gathering.
 */
final class MixtureOfExperts implements AutoCloseable {
    private final Backend backend;
    private final LlmConfig config;
    private final int topK;
    private final Tensor routerLogits;
    private final Tensor topValues;
    private final Tensor topIndices;
    private final Tensor hostValues;
    private final Tensor hostIndices;
    private final MemorySegment valuesSeg;
    private final MemorySegment indicesSeg;
    private final Tensor expertIn;
    private final Tensor gate;
    private final Tensor up;
    private final Tensor expertOut;
    private final Tensor[] oneRow;
    /** One token's gate and up outputs, for {@link Backend#matmuls}. */
    private final Tensor[] oneRowGateUp;
    private final int[][] tokensOf;
    private final float[][] weightsOf;
    private final int[] counts;
    private final List<Tensor> all = new ArrayList<>();

    MixtureOfExperts(Backend backend, LlmConfig c, int maxChunk) {
        this.backend = backend;
        this.config = c;
        this.topK = c.numExpertsPerTok();
        try {
            routerLogits = alloc(DType.F32, maxChunk, c.numExperts());
            topValues = alloc(DType.F32, maxChunk, topK);
            topIndices = alloc(DType.I32, maxChunk, topK);
            hostValues = backend.device().isHost() ? topValues : hostAlloc(DType.F32, maxChunk, topK);
            hostIndices = backend.device().isHost() ? topIndices : hostAlloc(DType.I32, maxChunk, topK);
            valuesSeg = hostValues.segment();
            indicesSeg = hostIndices.segment();
            expertIn = alloc(DType.F32, maxChunk, c.hiddenSize());
            gate = alloc(DType.F32, maxChunk, c.intermediateSize());
            up = alloc(DType.F32, maxChunk, c.intermediateSize());
            expertOut = alloc(DType.F32, maxChunk, c.hiddenSize());
        } catch (RuntimeException | OutOfMemoryError e) {
            close();
            throw e;
        }
        oneRow = new Tensor[] {routerLogits.slice(0, 0, 1), topValues.slice(0, 0, 1), topIndices.slice(0, 0, 1),
            gate.slice(0, 0, 1), up.slice(0, 0, 1), expertOut.slice(0, 0, 1)};
        oneRowGateUp = new Tensor[] {oneRow[3], oneRow[4]};
        tokensOf = new int[c.numExperts()][maxChunk];
        weightsOf = new float[c.numExperts()][maxChunk];
        counts = new int[c.numExperts()];
    }

    static long bytes(LlmConfig c, int maxChunk) {
        return 4L * maxChunk * (c.numExperts() + 2L * c.numExpertsPerTok() + 2L * c.hiddenSize() + 2L * c.intermediateSize());
    }

    /** {@code x[0..tokens) += MoE(normed[0..tokens))}; {@code gateUp[e]}: expert e's gate and up weights. */
    void forward(LayerWeights w, Tensor[][] gateUp, Tensor normed, Tensor x, int tokens) {
        boolean single = tokens == 1;
        Tensor logits = single ? oneRow[0] : routerLogits.slice(0, 0, tokens);
        Tensor values = single ? oneRow[1] : topValues.slice(0, 0, tokens);
        Tensor indices = single ? oneRow[2] : topIndices.slice(0, 0, tokens);
        backend.matmul(normed, w.router(), null, logits);
        backend.softmax(logits, logits);
        backend.topK(logits, topK, values, indices);
        if (hostValues != topValues) {
            backend.copy(topValues, hostValues);
            backend.copy(topIndices, hostIndices);
        }
        route(tokens);
        for (int e = 0; e < config.numExperts(); e++) {
            int n = counts[e];
            if (n == 0) {
                continue;
            }
            if (single) {
                backend.matmuls(normed, gateUp[e], null, oneRowGateUp);
                backend.gatedActivation(config.activation(), oneRow[3], oneRow[4], oneRow[3]);
                backend.matmul(oneRow[3], w.expertDown()[e], null, oneRow[5]);
                backend.scale(oneRow[5], weightsOf[e][0], oneRow[5]);
                backend.add(x, oneRow[5], x);
                continue;
            }
            Tensor in = expertIn.slice(0, 0, n);
            for (int j = 0; j < n; j++) {
                int t = tokensOf[e][j];
                backend.copyRows(normed.slice(0, t, t + 1), in, j);
            }
            Tensor result = expertOut.slice(0, 0, n);
            runExpert(w, e, in, gate.slice(0, 0, n), up.slice(0, 0, n), result);
            for (int j = 0; j < n; j++) {
                int t = tokensOf[e][j];
                Tensor row = result.slice(0, j, j + 1);
                backend.scale(row, weightsOf[e][j], row);
                Tensor target = x.slice(0, t, t + 1);
                backend.add(target, row, target);
            }
        }
    }

    private void runExpert(LayerWeights w, int e, Tensor in, Tensor g, Tensor u, Tensor out) {
        backend.matmul(in, w.expertGate()[e], null, g);
        backend.matmul(in, w.expertUp()[e], null, u);
        backend.gatedActivation(config.activation(), g, u, g);
        backend.matmul(g, w.expertDown()[e], null, out);
    }

    /** Groups tokens by expert with their renormalised weights. */
    private void route(int tokens) {
        java.util.Arrays.fill(counts, 0);
        for (int t = 0; t < tokens; t++) {
            float sum = 0f;
            for (int j = 0; j < topK; j++) {
                sum += valuesSeg.getAtIndex(ValueLayout.JAVA_FLOAT, (long) t * topK + j);
            }
            for (int j = 0; j < topK; j++) {
                long at = (long) t * topK + j;
                int e = indicesSeg.getAtIndex(ValueLayout.JAVA_INT, at);
                float weight = HfRounding.toActivationDtype(config, valuesSeg.getAtIndex(ValueLayout.JAVA_FLOAT, at) / sum);
                tokensOf[e][counts[e]] = t;
                weightsOf[e][counts[e]] = weight;
                counts[e]++;
            }
        }
    }

    private Tensor alloc(DType dtype, long... shape) {
        Tensor t = backend.allocate(dtype, shape);
        all.add(t);
        return t;
    }

    private Tensor hostAlloc(DType dtype, long... shape) {
        Tensor t = Tensor.allocate(dtype, shape);
        all.add(t);
        return t;
    }

    @Override
    public void close() {
        for (Tensor t : all) {
            t.close();
        }
        all.clear();
    }
}

package mgm.model.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import mgm.kernels.CudaBackend;
import mgm.model.WeightFormat;
import mgm.model.testing.TestBackends;
import mgm.model.testing.TinyModels;
import mgm.model.testing.TinyModels.LoadedDecoder;
import mgm.runtime.DType;
import mgm.runtime.profile.NoOpBackend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Decode steps on the CUDA backend run as one CUDA graph (recorded once, then updated in place
 * and replayed): the logits must be exactly those of the same kernels launched one by one, and
 * the graph must really be used, except for Mixtral, whose step reads the expert choice back to
 * the host and so runs op by op. Runs on the host emulator (CI); gpu-check runs it on a GPU.
 * A device that fails to make a graph falls back to kernel-by-kernel decoding.
 */
class DecoderGraphTest {
    private static final int PROMPT = 6;
    private static final int STEPS = 12;

    @ParameterizedTest
    @ValueSource(strings = {"MGM-tiny-vicuna", "MGM-tiny-gemma", "MGM-tiny-llama3", "MGM-tiny-mixtral"})
    void decodeStepsAsGraphsEqualKernelByKernel(String model) {
        CudaBackend cuda = TestBackends.cudaEmulated().orElse(null);
        Assumptions.assumeTrue(cuda != null, "the CUDA emulator library was not built (needs g++): nothing to run the graphs on");
        int[] ids = Arrays.copyOf(DecoderBehaviourTest.ids(model), PROMPT + STEPS);

        long steps = cuda.graphSteps();
        long instantiations = cuda.graphInstantiations();
        float[][] graphed = decode(model, cuda, ids, true);
        long graphedSteps = cuda.graphSteps() - steps;
        long graphedInstantiations = cuda.graphInstantiations() - instantiations;

        steps = cuda.graphSteps();
        float[][] direct = decode(model, cuda, ids, false);
        assertEquals(0, cuda.graphSteps() - steps, "-D" + CudaBackend.GRAPHS_PROPERTY + "=false must launch kernel by kernel");

        for (int i = 0; i < STEPS; i++) {
            assertArrayEquals(direct[i], graphed[i], model + ": decode step " + i + " as a graph vs kernel by kernel");
        }
        System.out.printf("%s: %d decode steps as graphs, %d instantiations%n", model, graphedSteps, graphedInstantiations);
        if (model.contains("mixtral")) {
            assertEquals(0, graphedSteps, "Mixtral reads its routing on the host mid-step: no graph");
        } else {
            assertEquals(STEPS, graphedSteps, "every decode step launched as a graph");
            // Only the position changes between steps: the executable graph is updated in place,
            // re-instantiated only when the attention kernel's launch shape changes with the length.
            assertTrue(graphedInstantiations >= 1 && graphedInstantiations <= STEPS / 3,
                    graphedInstantiations + " instantiations for " + STEPS + " steps");
        }
    }

    /**
     * A device that records the step (its host-side bookkeeping runs) and then fails to make a graph
     * of it: the decoder warns, undoes the bookkeeping, and decodes kernel by kernel from then on.
     */
    @Test
    void aStepThatCannotBeAGraphRunsKernelByKernel() {
        int[] failures = {0};
        boolean[] closed = {false};
        NoOpBackend device = new NoOpBackend() {
            @Override
            public RepeatedStep repeatedStep() {
                return new RepeatedStep() {
                    @Override
                    public void run(Runnable ops) {
                        ops.run();  // recorded, not executed
                        failures[0]++;
                        throw new IllegalStateException("graph instantiation failed (test)");
                    }

                    @Override
                    public void close() {
                        closed[0] = true;
                    }
                };
            }
        };
        try (LoadedDecoder d = TinyModels.loadDecoder(TinyModels.model("MGM-tiny-vicuna"), device, WeightFormat.STORED, 16);
             KvCache cache = d.decoder().newCache(8, DType.F32)) {
            d.decoder().prefill(cache, new int[] {1, 5, 9}, null);
            d.decoder().decode(cache, 7);
            assertEquals(4, cache.length(), "the failed recording's position undone, the step run once");
            d.decoder().decode(cache, 8);
            assertEquals(5, cache.length());
            assertEquals(1, failures[0], "after one failure no further graph attempts");
            assertTrue(closed[0], "the failed runner is released");
        }
    }

    private static float[][] decode(String model, CudaBackend cuda, int[] ids, boolean graphs) {
        String old = System.getProperty(CudaBackend.GRAPHS_PROPERTY);
        System.setProperty(CudaBackend.GRAPHS_PROPERTY, Boolean.toString(graphs));
        try (LoadedDecoder d = TinyModels.loadDecoder(TinyModels.model(model), cuda, WeightFormat.STORED, 64);
             KvCache cache = d.decoder().newCache(ids.length, DType.F32)) {
            d.decoder().prefill(cache, Arrays.copyOf(ids, PROMPT), null);
            float[][] out = new float[STEPS][];
            for (int i = 0; i < STEPS; i++) {
                out[i] = TestBackends.read(cuda, d.decoder().decode(cache, ids[PROMPT + i]));
            }
            return out;
        } finally {
            if (old == null) {
                System.clearProperty(CudaBackend.GRAPHS_PROPERTY);
            } else {
                System.setProperty(CudaBackend.GRAPHS_PROPERTY, old);
            }
        }
    }
}

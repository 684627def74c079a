package mgm.model.llm;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;

import mgm.model.WeightFormat;
import mgm.model.testing.TinyModels;
import mgm.model.testing.TinyModels.LoadedDecoder;
import mgm.runtime.AllocationSites;
import mgm.runtime.DType;
import mgm.runtime.QuantActivations;
import mgm.runtime.cpu.CpuBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Decoder#decode} promises to allocate nothing: checked in steady state on the CPU backend
 * for every load format, in the same JVM as the other model tests (the Vector API kernels
 * are compiled with whatever type profiles the rest of the program left, and C2 has boxed vectors
 * in some such programs; this is where that would show).
 */
class DecodeAllocationTest {
    /** Default tiling (the test backends' 32-element tiles make every row a short one). */
    private static final CpuBackend BACKEND = new CpuBackend(2);

    /** Activations rounded to Q8_0 before quantised matmuls (Q4_0 takes the integer kernel on 512-bit machines). */
    private static final CpuBackend ROUNDING_BACKEND = new CpuBackend(2, QuantActivations.Q8_0);

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void decodeStepsAllocateNothing(WeightFormat format) {
        checkDecodeSteps(BACKEND, format, DType.F32);
    }

    /** An F16 cache (mgm-run's default) takes the half-row attention kernels; the tiny Vicuna is MHA. */
    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void decodeStepsWithF16CacheAllocateNothing(WeightFormat format) {
        checkDecodeSteps(BACKEND, format, DType.F16);
    }

    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = {"Q8_0", "Q4_0"})
    void decodeStepsWithQ8ActivationsAllocateNothing(WeightFormat format) {
        checkDecodeSteps(ROUNDING_BACKEND, format, DType.F32);
    }

    private static void checkDecodeSteps(CpuBackend backend, WeightFormat format, DType cacheType) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (LoadedDecoder d = TinyModels.loadDecoder(TinyModels.model("MGM-tiny-vicuna"), backend, format, 16);
             KvCache cache = d.decoder().newCache(1024, cacheType)) {
            d.decoder().prefill(cache, new int[] {1, 30, 496}, null);
            long best = Long.MAX_VALUE;
            long[] ids = null;
            int token = 100;
            // steady state is what counts: the JIT compiles these small kernels only after many calls,
            // and may still be compiling for a while on a busy machine, so measure windows of 50 steps
            // until one is clean, rewinding the cache when it fills
            for (int window = 0; window < 200 && best >= 4096; window++) {
                if (cache.length() + 100 > cache.maxLength()) {
                    cache.truncate(3);
                }
                for (int i = 0; i < 50; i++) {
                    d.decoder().decode(cache, token++ % 500);
                }
                if (ids == null) {
                    ids = Thread.getAllStackTraces().keySet().stream()
                            .filter(t -> t.getName().startsWith("mgm-cpu-") || t == Thread.currentThread())
                            .mapToLong(Thread::threadId).toArray();
                }
                long before = sum(mx.getThreadAllocatedBytes(ids));
                for (int i = 0; i < 50; i++) {
                    d.decoder().decode(cache, token++ % 500);
                }
                best = Math.min(best, (sum(mx.getThreadAllocatedBytes(ids)) - before) / 50);
            }
            if (best >= 4096) {
                fail(format + " (" + backend.quantActivations() + " activations, " + cacheType + " cache): a decode step allocated " + best + " bytes on the heap; where (JFR allocation samples over "
                        + "50 more steps, innermost mgm frame): " + allocationSites(d.decoder(), cache, token));
            }
        }
    }

    /** Where 50 more decode steps allocate (see {@link AllocationSites}). */
    private static String allocationSites(Decoder decoder, KvCache cache, int token) {
        int[] next = {token};
        return AllocationSites.of(() -> {
            for (int i = 0; i < 50; i++) {
                if (cache.length() + 2 > cache.maxLength()) {
                    cache.truncate(3);
                }
                decoder.decode(cache, next[0]++ % 500);
            }
        });
    }

    private static long sum(long[] v) {
        long s = 0;
        for (long x : v) {
            s += Math.max(0, x);
        }
        return s;
    }
}

package mgm.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.util.Random;

import mgm.runtime.Activation;
import mgm.runtime.AllocationSites;
import mgm.runtime.DType;
import mgm.runtime.QuantActivations;
import mgm.runtime.Tensor;
import mgm.runtime.TiledWeights;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The decode-step ops allocate nothing on the Java heap once warm (on the caller and the pool
 * threads): tasks and scratch are preallocated, storages are passed with byte offsets instead of
 * slices. The activation kernels are in since their exp loop passes loop-carried vectors as
 * arguments only (it had compiled with boxed vectors in some programs; see the README, "Reading
 * C2's machine code"). With
 * activations rounded to Q8_0 the quantised matmuls take other kernels (the rounding, Q4_0's
 * integer kernel): checked too.
 */
class CpuBackendAllocationTest {

    @ParameterizedTest
    @EnumSource(QuantActivations.class)
    void decodeStepOpsDoNotAllocatePerElement(QuantActivations activations) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Random r = new Random(5);
        try (CpuBackend cpu = new CpuBackend(2, activations);
             Tensor x = rand(r, 1, 1024);
             Tensor w = Tensor.allocate(DType.Q8_0, 512, 1024);
             Tensor wb = Tensor.allocate(DType.BF16, 512, 1024);
             Tensor out = Tensor.allocate(DType.F32, 1, 512);
             Tensor out2 = Tensor.allocate(DType.F32, 1, 512);
             Tensor token = Tensor.allocate(DType.I32, 1);
             Tensor norm = rand(r, 1024);
             Tensor norm512 = rand(r, 512);
             Tensor q = rand(r, 1, 8, 128);
             Tensor k = Tensor.allocate(DType.F16, 64, 2, 128);
             Tensor v = Tensor.allocate(DType.F16, 64, 2, 128);
             Tensor att = Tensor.allocate(DType.F32, 1, 8, 128);
             Tensor kLong = Tensor.allocate(DType.F16, 300, 2, 128); // 201 visible keys: the split over keys
             Tensor vLong = Tensor.allocate(DType.F32, 300, 2, 128);
             Tensor vLongHalf = Tensor.allocate(DType.F16, 300, 2, 128); // F16 keys and values: rows widened in registers
             Tensor qMha = rand(r, 1, 8, 128);
             Tensor kMha = Tensor.allocate(DType.F16, 300, 8, 128); // MHA: heads of a row scored in pairs
             Tensor vMha = Tensor.allocate(DType.F16, 300, 8, 128);
             Tensor attMha = Tensor.allocate(DType.F32, 1, 8, 128);
             Tensor inv = rand(r, 64);
             Tensor xLong = rand(r, 1, 4096);
             Tensor wLong = Tensor.allocate(DType.Q8_0, 256, 4096);
             Tensor wTiled = cpu.prepareLinear(wLong); // K tiles: rows longer than 2816
             Tensor outLong = Tensor.allocate(DType.F32, 1, 256);
             Tensor wQ4Plain = Tensor.allocate(DType.Q4_0, 512, 1024);
             Tensor wQ4 = cpu.prepareLinear(wQ4Plain)) { // interleaved on 512-bit machines (else wQ4Plain itself)
            assertTrue(TiledWeights.isTiled(wTiled), "a 4096-long row is K-tiled");
            Runnable step = () -> {
                cpu.rmsNorm(x, norm, 1e-5f, 0f, x);
                cpu.matmul(x, w, null, out);
                cpu.matmul(x, wb, null, out);
                cpu.matmul(xLong, wTiled, null, outLong);
                cpu.matmul(x, wQ4, null, out);
                cpu.mul(out, norm512, out);
                cpu.rope(q, 40, inv, q);
                cpu.attention(q, k, v, 0.1f, true, 40, att);
                cpu.attention(q, kLong, vLong, 0.1f, true, 200, att);
                cpu.attention(q, kLong, vLongHalf, 0.1f, true, 200, att);
                cpu.attention(qMha, kMha, vMha, 0.1f, true, 200, attMha);
                cpu.add(x, x, x);
                cpu.gatedActivation(Activation.SILU, out, out2, out2);
                cpu.softmax(out, out2);
                cpu.argmax(out2, token);
            };
            long[] ids = null;
            long best = Long.MAX_VALUE;
            // steady state is what counts: the JIT may still be compiling (or deoptimising) for a
            // while on a busy machine, so measure windows of 100 steps until one is clean
            for (int window = 0; window < 60 && best >= 4096; window++) {
                for (int i = 0; i < 100; i++) {
                    step.run();
                }
                if (ids == null) {
                    ids = Thread.getAllStackTraces().keySet().stream()
                            .filter(t -> t.getName().startsWith("mgm-cpu-") || t == Thread.currentThread())
                            .mapToLong(Thread::threadId).toArray();
                }
                long before = sum(mx.getThreadAllocatedBytes(ids));
                for (int i = 0; i < 100; i++) {
                    step.run();
                }
                best = Math.min(best, (sum(mx.getThreadAllocatedBytes(ids)) - before) / 100);
            }
            long perStep = best;
            if (perStep >= 4096) {
                fail("a decode step (" + activations + " activations) allocated " + perStep + " bytes on the heap; where (JFR "
                        + "allocation samples over 50 more steps, innermost mgm frame): " + AllocationSites.of(() -> {
                            for (int i = 0; i < 50; i++) {
                                step.run();
                            }
                        }));
            }
        }
    }

    /**
     * A decode step attends over one key more than the last, so decode attention's items grow as
     * the cache fills; their scratch must be made once for the cache, not as it fills (the
     * widened-row buffer had been made anew, and cleared, whenever an item grew: at every step below
     * 64 keys). A sweep over 1..300 visible keys (the first 15 on AttentionTask), as a decoder makes,
     * on a fresh backend after the same sweeps warmed the JIT on another: only the first calls of
     * each kind may allocate on the heap (any thread).
     */
    @org.junit.jupiter.api.Test
    void decodeAttentionScratchIsMadeOnceNotAsTheCacheFills() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Random r = new Random(6);
        try (Tensor q = rand(r, 1, 8, 64);
             Tensor kMha = rand(r, 300, 8, 64); Tensor kMhaHalf = Tensor.allocate(DType.F16, 300, 8, 64);
             Tensor kGqa = rand(r, 300, 2, 64); Tensor kGqaHalf = Tensor.allocate(DType.F16, 300, 2, 64);
             Tensor vGqa = rand(r, 300, 2, 64); // F32 values beside F16 keys: rows widened through a buffer
             Tensor out = Tensor.allocate(DType.F32, 1, 8, 64)) {
            AttentionStep step = (cpu, start) -> {
                cpu.attention(q, kMhaHalf, kMhaHalf, 0.1f, true, start, out);
                cpu.attention(q, kGqaHalf, kGqaHalf, 0.1f, true, start, out);
                cpu.attention(q, kGqaHalf, vGqa, 0.1f, true, start, out);
            };
            try (CpuBackend warm = new CpuBackend(2)) {
                warm.copy(kMha, kMhaHalf);
                warm.copy(kGqa, kGqaHalf);
                // whole sweeps, then sparser ones; then the steps below 16 keys (AttentionTask), which
                // a sweep runs too few times for C2 to compile their loops
                for (int i = 0; i < 40; i++) {
                    for (int start = 0; start < 300; start += i < 5 ? 1 : 8) {
                        step.run(warm, start);
                    }
                }
                for (int i = 0; i < 360; i++) {
                    for (int start = 0; start < 16; start++) {
                        step.run(warm, start);
                    }
                }
            }
            // each attempt on a fresh backend (its scratch made from nothing). Its first calls take set's
            // allocating branches, which C2 may have compiled as traps from the other backend's profile:
            // set is then deoptimised, and its vector helpers run in the interpreter / C1, allocating
            // at every call until it is recompiled (seen in ~1 of 8 attempts), so the sweep counts as
            // failed only if every attempt allocates at many steps
            String attempts = "";
            for (int attempt = 0; attempt < 4; attempt++) {
                StringBuilder seen = new StringBuilder();
                int allocating = 0;
                try (CpuBackend cpu = new CpuBackend(2)) {
                    cpu.attention(q, kGqaHalf, kGqaHalf, 0.1f, true, 0, out); // starts the pool threads
                    long[] ids = Thread.getAllStackTraces().keySet().stream()
                            .filter(t -> t.getName().startsWith("mgm-cpu-") || t == Thread.currentThread())
                            .mapToLong(Thread::threadId).toArray();
                    for (int start = 0; start < 300; start++) {
                        long a = sum(mx.getThreadAllocatedBytes(ids));
                        long b = sum(mx.getThreadAllocatedBytes(ids));
                        step.run(cpu, start);
                        long c = sum(mx.getThreadAllocatedBytes(ids));
                        long bytes = (c - b) - (b - a); // less what one reading of the counters allocates itself
                        if (bytes > 0) {
                            allocating++;
                            seen.append(' ').append(start + 1).append(" keys: ").append(bytes).append(" B;");
                        }
                    }
                }
                // the first call of each task and shape, and room for a JIT event or two
                if (allocating <= 8) {
                    return;
                }
                attempts += "\n" + allocating + " of 300 decode steps allocated on the heap in attention:" + seen;
            }
            fail("every attempt allocated at many steps:" + attempts);
        }
    }

    /** One decode step's attention calls over {@code start + 1} keys. */
    private interface AttentionStep {
        void run(CpuBackend cpu, int start);
    }

    /** Sum of per-thread allocation counters (-1 for a thread that has ended counts as 0). */
    static long sum(long[] v) {
        long s = 0;
        for (long x : v) {
            s += Math.max(0, x);
        }
        return s;
    }

    /** A host F32 tensor of N(0, 0.1^2) values. */
    static Tensor rand(Random r, long... shape) {
        float[] v = new float[(int) Tensor.product(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian() * 0.1f;
        }
        return Tensor.of(v, shape);
    }
}

package mgm.runtime.cpu;

/**
 * Per-thread scratch arrays with 64 bytes of slack at their end, so that two threads' arrays,
 * allocated one after another, never share a cache line: a line that one core writes and the
 * other reads or writes moves between their caches at every access. Decode attention kept its
 * per-call scratch (four dot products, the record of F16 special values, a 32-float block) in
 * adjacent 16- to 64-byte arrays: a 32-head F16 step ran no faster on two threads than on one;
 * apart, a 640-key TinyLlama step took 120 instead of 153 us and a 32-head 1200-key step 1301
 * instead of 1529 (medians, alternating in one JVM; docs/performance-notes.md, "Per-thread scratch apart"). Every
 * per-thread array of the CPU tasks comes from here.
 */
final class ThreadScratch {
    private ThreadScratch() {}

    /** Bytes of slack after each array's elements. */
    static final int SLACK_BYTES = 64;

    static float[] floats(int n) {
        return new float[n + SLACK_BYTES / Float.BYTES];
    }

    static float[][] floats(int threads, int n) {
        return perThread(new float[threads][], () -> floats(n));
    }

    static int[] ints(int n) {
        return new int[n + SLACK_BYTES / Integer.BYTES];
    }

    static int[][] ints(int threads, int n) {
        return perThread(new int[threads][], () -> ints(n));
    }

    static short[][] shorts(int threads, int n) {
        return perThread(new short[threads][], () -> new short[n + SLACK_BYTES / Short.BYTES]);
    }

    /** Each element of {@code out} (one per thread) a fresh array from {@code make}. */
    private static <T> T[] perThread(T[] out, java.util.function.Supplier<T> make) {
        for (int w = 0; w < out.length; w++) {
            out[w] = make.get();
        }
        return out;
    }
}

package mgm.model.generate;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits. All buffers are allocated once for the vocabulary
 * size, so a sampling step allocates nothing. Not thread-safe: one sampler per sequence.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    private final float[] logits;
    private final int[] heap;
    private final boolean[] seen;
    private final int[] seenList;
    private int seenCount;

    public Sampler(SamplingParams params, int vocabSize) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
        this.logits = new float[vocabSize];
        this.heap = new int[vocabSize];
        this.seen = new boolean[vocabSize];
        this.seenList = new int[vocabSize];
    }

    /** Records a prompt or generated token for the repetition penalty. */
    public void observe(int token) {
        if (token >= 0 && token < seen.length && !seen[token]) {
            seen[token] = true;
            seenList[seenCount++] = token;
        }
    }

    /** Chooses a token from host logits (a contiguous F32 row of {@code vocabSize} values). */
    public int next(MemorySegment row) {
        MemorySegment.copy(row, ValueLayout.JAVA_FLOAT, 0, logits, 0, logits.length);
        return next(logits);
    }

    /** Chooses a token; {@code scores} is modified in place. */
    public int next(float[] scores) {
        float penalty = params.repetitionPenalty();
        if (penalty != 1f) {
            for (int i = 0; i < seenCount; i++) {
                int t = seenList[i];
                scores[t] = scores[t] < 0 ? scores[t] * penalty : scores[t] / penalty;
            }
        }
        if (params.greedy()) {
            return argmax(scores);
        }
        float inv = 1f / params.temperature();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < scores.length; i++) {
            scores[i] *= inv;
            max = Math.max(max, scores[i]);
        }
        // Probabilities (unnormalised), then keep the best tokens by top-k and top-p.
        double total = 0;
        for (int i = 0; i < scores.length; i++) {
            float p = (float) Math.exp(scores[i] - max);
            scores[i] = p;
            total += p;
        }
        int kept = keepBest(scores, total);
        double mass = 0;
        for (int i = 0; i < kept; i++) {
            mass += scores[heap[scores.length - 1 - i]];
        }
        double u = random.nextDouble() * mass;
        for (int i = 0; i < kept; i++) {
            int t = heap[scores.length - 1 - i];
            u -= scores[t];
            if (u < 0) {
                return t;
            }
        }
        return heap[scores.length - kept];
    }

    /**
     * Orders the most probable tokens, best first, at the end of {@link #heap} (heap-sort pops) and
     * returns how many survive top-k, then top-p. As in HF, top-p sees the distribution left by
     * top-k, renormalised, and keeps a token while the mass ranked above it is below p (so at
     * least one token survives).
     */
    private int keepBest(float[] p, double total) {
        int n = p.length;
        for (int i = 0; i < n; i++) {
            heap[i] = i;
        }
        for (int i = n / 2 - 1; i >= 0; i--) {
            siftDown(p, i, n);
        }
        int size = n;
        if (params.topK() > 0) {
            int k = Math.min(params.topK(), n);
            double massK = 0;
            for (int i = 0; i < k; i++) {
                massK += p[pop(p, size--)];
            }
            return countTopP(p, k, massK);
        }
        double threshold = params.topP() * total;
        double above = 0;
        int kept = 0;
        while (size > 0 && (kept == 0 || above < threshold)) {
            above += p[pop(p, size--)];
            kept++;
        }
        return kept;
    }

    /** Of the {@code k} tokens already ordered best-first at the end of the heap, how many top-p keeps. */
    private int countTopP(float[] p, int k, double mass) {
        double threshold = params.topP() * mass;
        double above = 0;
        int kept = 0;
        while (kept < k && (kept == 0 || above < threshold)) {
            above += p[heap[p.length - 1 - kept]];
            kept++;
        }
        return kept;
    }

    /** Moves the heap's best token to position {@code size - 1} and restores the heap on the rest. */
    private int pop(float[] p, int size) {
        int best = heap[0];
        heap[0] = heap[size - 1];
        heap[size - 1] = best;
        siftDown(p, 0, size - 1);
        return best;
    }

    private void siftDown(float[] p, int i, int size) {
        int node = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && better(p, heap[child + 1], heap[child])) {
                child++;
            }
            if (!better(p, heap[child], node)) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = node;
    }

    /** Higher probability first; ties go to the lower token id. */
    private static boolean better(float[] p, int a, int b) {
        return p[a] > p[b] || (p[a] == p[b] && a < b);
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}

package mgm.model.generate;

import java.lang.foreign.MemorySegment;
import java.util.Set;
import mgm.model.llm.Decoder;
import mgm.model.llm.KvCache;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * The generation loop: prefill the prompt (ids or spliced embeddings) as one pass, then sample and
 * feed back one token at a time until a stop token, the token limit, the end of the context, or
 * the listener cancels. Timings of both phases are measured.
 */
public final class Generator implements AutoCloseable {
    /** Why generation ended. */
    public enum StopReason { STOP_TOKEN, MAX_TOKENS, CONTEXT_FULL, CANCELLED }

    /**
     * @param tokens generated ids, without the stop token
     */
    public record Result(int[] tokens, StopReason reason, int promptTokens, long prefillNanos, long decodeNanos) {
        public double prefillTokensPerSecond() {
            return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
        }

        /** Decode speed over the tokens produced by decode steps (the first comes from the prefill). */
        public double decodeTokensPerSecond() {
            int steps = Math.max(0, tokens.length - 1);
            return decodeNanos == 0 ? 0 : steps * 1e9 / decodeNanos;
        }
    }

    /** Called with each generated token; return false to stop (e.g. Ctrl-C). */
    public interface TokenListener {
        boolean onToken(int token);
    }

    private final Decoder decoder;
    private final Tensor hostLogits;

    public Generator(Decoder decoder) {
        this.decoder = decoder;
        this.hostLogits = decoder.backend().device().isHost() ? null
                : Tensor.allocate(DType.F32, 1, decoder.config().vocabSize());
    }

    /** Generates after prompt ids (appended to {@code cache}). */
    public Result generate(KvCache cache, int[] promptIds, SamplingParams params, Set<Integer> stopTokens,
                           int maxNewTokens, TokenListener listener) {
        Sampler sampler = new Sampler(params, decoder.config().vocabSize());
        for (int id : promptIds) {
            sampler.observe(id);
        }
        long t0 = System.nanoTime();
        Tensor logits = decoder.prefill(cache, promptIds, null);
        long prefill = System.nanoTime() - t0;
        return decodeLoop(cache, logits, sampler, promptIds.length, prefill, stopTokens, maxNewTokens, listener);
    }

    /**
     * Generates after prompt embeddings {@code [T, hidden]} (text with image features spliced in);
     * {@code promptIds} are the text ids seen by the repetition penalty (may be empty).
     */
    public Result generate(KvCache cache, Tensor promptEmbeddings, int[] promptIds, SamplingParams params,
                           Set<Integer> stopTokens, int maxNewTokens, TokenListener listener) {
        Sampler sampler = new Sampler(params, decoder.config().vocabSize());
        for (int id : promptIds) {
            sampler.observe(id);
        }
        long t0 = System.nanoTime();
        Tensor logits = decoder.prefill(cache, promptEmbeddings, null);
        long prefill = System.nanoTime() - t0;
        return decodeLoop(cache, logits, sampler, (int) promptEmbeddings.dim(0), prefill, stopTokens, maxNewTokens,
                listener);
    }

    private Result decodeLoop(KvCache cache, Tensor logits, Sampler sampler, int promptTokens, long prefillNanos,
                              Set<Integer> stopTokens, int maxNewTokens, TokenListener listener) {
        int[] out = new int[Math.max(0, maxNewTokens)];
        int n = 0;
        StopReason reason = StopReason.MAX_TOKENS;
        long t0 = System.nanoTime();
        while (n < maxNewTokens) {
            int token = sampler.next(hostRow(logits));
            if (stopTokens.contains(token)) {
                reason = StopReason.STOP_TOKEN;
                break;
            }
            out[n++] = token;
            sampler.observe(token);
            if (!listener.onToken(token)) {
                reason = StopReason.CANCELLED;
                break;
            }
            if (n == maxNewTokens) {
                break;
            }
            if (cache.length() >= cache.maxLength()) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            logits = decoder.decode(cache, token);
        }
        long decode = System.nanoTime() - t0;
        return new Result(java.util.Arrays.copyOf(out, n), reason, promptTokens, prefillNanos, decode);
    }

    private MemorySegment hostRow(Tensor logits) {
        if (hostLogits == null) {
            return logits.segment();
        }
        decoder.backend().copy(logits, hostLogits);
        return hostLogits.segment();
    }

    @Override
    public void close() {
        if (hostLogits != null) {
            hostLogits.close();
        }
    }
}

package mgm.runtime;

/**
 * The form activations take on entering a matmul whose weights are block-quantised (Q8_0, Q4_0 and
 * their in-memory layouts); other matmuls always take them as they are.
 */
public enum QuantActivations {
    /** As they are (F32): the default, and what the model references compute with. */
    F32,
    /**
     * Each activation row rounded to Q8_0 blocks first ({@link Quant#quantizeQ8_0}: 32 elements
     * share an fp16 scale {@code amax / 127}, each an int8, then {@link Quant#dequantize}), as
     * llama.cpp's CPU matmuls do. On the CPU backend the products of interleaved Q4_0 weights then
     * run in 16-bit integers, faster where the F32 form is compute-bound (Q4_0 decode on AVX-512:
     * +11-18%); Q8_0 weights take their F32 kernel on the rounded values. Results move by the
     * rounding. The CLI's {@code --q8-activations}.
     */
    Q8_0;

    /** Whether activations entering a matmul with {@code weight} weights are rounded. */
    public boolean rounds(DType weight) {
        return this == Q8_0 && weight.isQuantized();
    }
}

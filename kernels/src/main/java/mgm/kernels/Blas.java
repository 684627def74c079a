package mgm.kernels;

/** The cuBLAS operations the backend uses (dense GEMM baseline). */
public interface Blas {
    /** Data types of {@code cudaDataType}. */
    int R_32F = 0;
    int R_16F = 2;
    int R_16BF = 14;

    /**
     * Row-major {@code out[M, N] = x[M, K] . w[N, K]^T + beta * out} with fp32 accumulation: x and w
     * of type {@code abType} (rows {@code ldx} / {@code ldw} elements apart), out F32 (rows {@code ldo} apart).
     */
    void gemm(int abType, long x, int ldx, long w, int ldw, long out, int ldo, int M, int N, int K, float beta);

    /** The library's file name and version, for reports. */
    String describe();
}

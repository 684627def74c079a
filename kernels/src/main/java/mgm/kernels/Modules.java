package mgm.kernels;

/** Kernel modules: one per .cu file in kernels/src/main/cuda, loaded from PTX by name. */
final class Modules {
    static final String CONVERT = "convert";
    static final String ELEMENTWISE = "elementwise";
    static final String NORM = "norm";
    static final String ROPE = "rope";
    static final String EMBEDDING = "embedding";
    static final String GEMV = "gemv";
    static final String GEMM = "gemm";
    static final String ATTENTION = "attention";
    static final String CONV = "conv";
    static final String RESIZE = "resize";
    static final String SELECT = "select";

    private Modules() {}
}

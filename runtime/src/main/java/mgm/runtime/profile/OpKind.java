package mgm.runtime.profile;

/** The {@link mgm.runtime.Backend} ops the profiler tells apart, named as the interface names them. */
public enum OpKind {
    COPY("copy"),
    COPY_ROWS("copyRows"),
    EMBEDDING("embedding"),
    MATMUL("matmul"),
    RMS_NORM("rmsNorm"),
    LAYER_NORM("layerNorm"),
    SOFTMAX("softmax"),
    ROPE("rope"),
    ATTENTION("attention"),
    WINDOW_ATTENTION("windowAttention"),
    ACTIVATION("activation"),
    GATED_ACTIVATION("gatedActivation"),
    ADD("add"),
    MUL("mul"),
    SCALE("scale"),
    CONV2D("conv2d"),
    DEPTHWISE_CONV2D("depthwiseConv2d"),
    RESIZE_BILINEAR("resizeBilinear"),
    TOP_K("topK"),
    ARGMAX("argmax");

    private final String opName;

    OpKind(String opName) {
        this.opName = opName;
    }

    /** The Backend method's name, e.g. {@code matmul}: the slice name in traces, JFR and NVTX. */
    public String opName() {
        return opName;
    }
}

package mgm.runtime.profile;

import java.util.Arrays;
import mgm.runtime.Activation;
import mgm.runtime.DType;

/**
 * One op call as the profiler sees it: its signature (kind, the sizes that name its shape, dtypes,
 * flags), which groups calls into one report row, and its cost (bytes moved, FLOPs), which may differ
 * between calls of one signature (decode attention reads a longer cache each step).
 *
 * <p>{@link #equals} and {@link #hashCode} cover the signature only, so that a mutable sample reused
 * for every call can look up its row without allocating; map keys are {@link #freeze() frozen} copies.
 */
public final class OpSample {
    static final int MAX_DIMS = 16;
    static final int BIAS = 1;
    static final int CAUSAL = 2;

    OpKind kind;
    DType dtype;
    DType dtype2;
    int flags;
    final long[] dims = new long[MAX_DIMS];
    int rank;
    /** Bytes a minimal implementation must move: every input read once, every output written once. */
    long bytes;
    /** Floating-point operations of the straightforward formula (an FMA counts 2). */
    long flops;

    public OpKind kind() {
        return kind;
    }

    public long bytes() {
        return bytes;
    }

    public long flops() {
        return flops;
    }

    void start(OpKind k, DType main) {
        kind = k;
        dtype = main;
        dtype2 = null;
        flags = 0;
        rank = 0;
        bytes = 0;
        flops = 0;
    }

    void dim(long d) {
        if (rank < MAX_DIMS) {
            dims[rank++] = d;
        } else {
            dims[MAX_DIMS - 1] *= d;  // fold very high ranks into the last slot; the label shows the product
        }
    }

    /** An immutable copy of the signature (cost fields zero), for use as a map key. */
    OpSample freeze() {
        OpSample c = new OpSample();
        c.kind = kind;
        c.dtype = dtype;
        c.dtype2 = dtype2;
        c.flags = flags;
        c.rank = rank;
        System.arraycopy(dims, 0, c.dims, 0, rank);
        return c;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof OpSample s) || s.kind != kind || s.dtype != dtype || s.dtype2 != dtype2 || s.flags != flags
                || s.rank != rank) {
            return false;
        }
        for (int i = 0; i < rank; i++) {
            if (s.dims[i] != dims[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = kind.ordinal() * 31 + (dtype == null ? 0 : dtype.ordinal() + 1);
        h = h * 31 + (dtype2 == null ? 0 : dtype2.ordinal() + 1);
        h = h * 31 + flags;
        for (int i = 0; i < rank; i++) {
            long d = dims[i];
            h = h * 31 + (int) (d ^ (d >>> 32));
        }
        return h;
    }

    /** The shape column of the report, e.g. {@code x[1,4096] w[11008,4096] Q4_0}. */
    public String label() {
        long[] d = Arrays.copyOf(dims, rank);
        String dt = dtype == null ? "" : " " + dtype;
        return switch (kind) {
            case MATMUL -> "x" + list(d, 0, 2) + " w[" + d[2] + "," + d[1] + "]" + dt + ((flags & BIAS) != 0 ? " +bias" : "");
            case ATTENTION -> "q" + list(d, 0, 3) + " kv[" + d[3] + "," + d[4] + "," + d[2] + "]" + dt
                    + ((flags & CAUSAL) != 0 ? " causal" : "");
            case WINDOW_ATTENTION -> "q" + list(d, 0, 2) + " window " + d[2] + "x" + d[2];
            case CONV2D -> "x" + list(d, 0, 4) + " w[" + d[4] + "," + d[3] + "," + d[5] + "," + d[6] + "]" + dt
                    + " s" + d[7] + " p" + d[8] + ((flags & BIAS) != 0 ? " +bias" : "");
            case DEPTHWISE_CONV2D -> "x" + list(d, 0, 4) + " k" + d[4] + " p" + d[5] + dt + ((flags & BIAS) != 0 ? " +bias" : "");
            case EMBEDDING -> "ids[" + d[0] + "] table[" + d[1] + "," + d[2] + "]" + dt;
            case COPY, COPY_ROWS -> list(d, 0, rank) + " " + dtype + "->" + dtype2;
            case ACTIVATION, GATED_ACTIVATION -> Activation.values()[flags >> 4] + " " + list(d, 0, rank);
            case ADD, MUL -> list(d, 0, rank - 1) + (kind == OpKind.ADD ? " + " : " * ") + "[" + d[rank - 1] + "]";
            case RESIZE_BILINEAR -> list(d, 0, 4) + "->[" + d[4] + "," + d[5] + "]";
            case TOP_K -> list(d, 0, 2) + " k=" + d[2];
            default -> list(d, 0, rank) + (dtype == null || dtype == DType.F32 ? "" : dt);
        };
    }

    private static String list(long[] d, int from, int to) {
        StringBuilder b = new StringBuilder("[");
        for (int i = from; i < to; i++) {
            b.append(i > from ? "," : "").append(d[i]);
        }
        return b.append(']').toString();
    }
}

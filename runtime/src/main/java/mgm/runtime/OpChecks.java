package mgm.runtime;

import java.util.Arrays;

/**
 * Argument checks shared by every backend, so that a bad call gives the same clear message (op,
 * argument name, shape, dtype) whichever backend runs it. All checks run before an op writes.
 */
public final class OpChecks {
    private OpChecks() {}

    /** Every non-null tensor is alive and on {@code device}. */
    public static void onDevice(String op, Device device, Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t == null) {
                continue;
            }
            t.checkAlive(op);
            if (!t.device().equals(device)) {
                throw new IllegalArgumentException(op + ": tensor " + t.describe() + " is on " + t.device()
                        + " but this backend runs on " + device);
            }
        }
    }

    public static void notNull(String op, String name, Tensor t) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
    }

    public static void dtype(String op, String name, Tensor t, DType... allowed) {
        for (DType d : allowed) {
            if (t.dtype() == d) {
                return;
            }
        }
        throw new IllegalArgumentException(op + ": " + name + " " + t.describe() + " has dtype " + t.dtype()
                + "; expected " + (allowed.length == 1 ? allowed[0] : "one of " + Arrays.toString(allowed)));
    }

    public static void rank(String op, String name, Tensor t, int rank) {
        if (t.rank() != rank) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.describe() + " must have " + rank + " dims");
        }
    }

    /** Exact shape; a negative expected size matches anything. */
    public static void shape(String op, String name, Tensor t, long... expected) {
        boolean ok = t.rank() == expected.length;
        for (int i = 0; ok && i < expected.length; i++) {
            ok = expected[i] < 0 || expected[i] == t.dim(i);
        }
        if (!ok) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.describe() + " must have shape "
                    + Arrays.toString(expected).replace("-1", "*"));
        }
    }

    public static void sameShape(String op, String nameA, Tensor a, String nameB, Tensor b) {
        if (!a.sameShape(b)) {
            throw new IllegalArgumentException(op + ": " + nameA + " " + a.describe() + " and " + nameB + " "
                    + b.describe() + " must have the same shape");
        }
    }

    public static void contiguous(String op, String name, Tensor t) {
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.describe() + " must be contiguous");
        }
    }

    /** {@code b} can be broadcast to {@code a}'s shape (NumPy rules). */
    public static void broadcastable(String op, Tensor a, Tensor b) {
        long[] as = a.shape();
        long[] bs = b.shape();
        boolean ok = bs.length <= as.length;
        for (int i = 1; ok && i <= bs.length; i++) {
            long bd = bs[bs.length - i];
            ok = bd == 1 || bd == as[as.length - i];
        }
        if (!ok) {
            throw new IllegalArgumentException(op + ": " + b.describe() + " cannot be broadcast to " + a.describe());
        }
    }

    /**
     * The arrays of a call on several weights ({@link Backend#matmuls}): ws and outs non-null, of one
     * non-zero length, without null entries; biases null (no bias) or of that length (null entries
     * allowed).
     */
    public static void weightArrays(String op, Tensor[] ws, Tensor[] biases, Tensor[] outs) {
        require(ws != null && outs != null, op, "ws and outs must not be null");
        require(ws.length > 0 && ws.length == outs.length && (biases == null || biases.length == ws.length), op,
                ws.length + " weights, " + outs.length + " outputs" + (biases == null ? "" : " and " + biases.length + " biases")
                        + ": needs one output (and bias, when biases is not null) per weight, at least one weight");
        for (int i = 0; i < ws.length; i++) {
            notNull(op, "ws[" + i + "]", ws[i]);
            notNull(op, "outs[" + i + "]", outs[i]);
        }
    }

    public static void require(boolean condition, String op, String message) {
        if (!condition) {
            throw new IllegalArgumentException(op + ": " + message);
        }
    }
}

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
     * The arguments of {@link Backend#windowAttention}, as every backend checks them: q, map and out
     * non-null, alive, on {@code device} and F32; map {@code [H, W, D]} divisible into window×window
     * windows; q {@code [(H / window)·(W / window), D]}, out shaped like q; q and out contiguous.
     */
    public static void windowAttention(Device device, Tensor q, Tensor map, int window, Tensor out) {
        String op = "windowAttention";
        notNull(op, "q", q);
        notNull(op, "map", map);
        notNull(op, "out", out);
        onDevice(op, device, q, map, out);
        dtype(op, "q", q, DType.F32);
        dtype(op, "map", map, DType.F32);
        dtype(op, "out", out, DType.F32);
        rank(op, "map", map, 3);
        require(window >= 1 && map.dim(0) % window == 0 && map.dim(1) % window == 0, op,
                "map " + map.describe() + " is not divisible into " + window + "x" + window + " windows");
        shape(op, "q", q, map.dim(0) / window * (map.dim(1) / window), map.dim(2));
        sameShape(op, "q", q, "out", out);
        contiguous(op, "q", q);
        contiguous(op, "out", out);
    }

    /**
     * Everything about a call on several weights ({@link Backend#matmuls}) that holds on every
     * backend, checked before the first weight is multiplied, so that a bad call writes nothing: ws
     * and outs of one non-zero length without null entries, biases null (no bias) or of that length
     * (null entries allowed); every tensor alive and on {@code device}; x F32 {@code [M, K]}; each
     * weight {@code [N, K]} (or the K-tiled {@code [T, N, K / T]} of {@link TiledWeights}), its
     * output F32 {@code [M, N]} and its bias F32 {@code [N]}; no output overlapping x, another
     * output, or any weight or bias. Allocates nothing unless a check fails. (Each backend's matmul
     * checks what it supports on top: weight dtypes, layouts.)
     */
    public static void matmuls(String op, Device device, Tensor x, Tensor[] ws, Tensor[] biases, Tensor[] outs) {
        require(ws != null && outs != null, op, "ws and outs must not be null");
        if (!(ws.length > 0 && ws.length == outs.length && (biases == null || biases.length == ws.length))) {
            throw new IllegalArgumentException(op + ": " + ws.length + " weights, " + outs.length + " outputs"
                    + (biases == null ? "" : " and " + biases.length + " biases")
                    + ": needs one output (and bias, when biases is not null) per weight, at least one weight");
        }
        notNull(op, "x", x);
        onDevice(op, device, x);
        if (!(x.dtype() == DType.F32 && x.rank() == 2)) {
            throw new IllegalArgumentException(op + ": x " + x.describe() + " must be F32 [M, K]");
        }
        long m = x.dim(0), k = x.dim(1);
        for (int i = 0; i < ws.length; i++) {
            Tensor w = ws[i], out = outs[i], bias = biases == null ? null : biases[i];
            if (w == null || out == null) {
                throw new IllegalArgumentException(op + ": " + (w == null ? "ws[" : "outs[") + i + "] is null");
            }
            onDevice(op, device, w);
            onDevice(op, device, out);
            if (bias != null) {
                onDevice(op, device, bias);
            }
            boolean tiled = TiledWeights.isTiled(w);
            if (!(w.rank() == 2 || tiled)) {
                throw new IllegalArgumentException(op + ": ws[" + i + "] " + w.describe() + " must be [N, K] (or the K-tiled [T, N, K / T])");
            }
            long n = tiled ? w.dim(1) : w.dim(0);
            if ((tiled ? w.dim(0) * w.dim(2) : w.dim(1)) != k) {
                throw new IllegalArgumentException(op + ": x " + x.describe() + " and ws[" + i + "] " + w.describe()
                        + " disagree on K (x·wᵀ needs w [N, " + k + "])");
            }
            if (!(out.dtype() == DType.F32 && out.rank() == 2 && out.dim(0) == m && out.dim(1) == n)) {
                throw new IllegalArgumentException(op + ": outs[" + i + "] " + out.describe() + " must be F32 [" + m + ", " + n + "]");
            }
            if (bias != null && !(bias.dtype() == DType.F32 && bias.rank() == 1 && bias.dim(0) == n)) {
                throw new IllegalArgumentException(op + ": biases[" + i + "] " + bias.describe() + " must be F32 [" + n + "]");
            }
        }
        for (int i = 0; i < ws.length; i++) {
            if (mayOverlap(outs[i], x)) {
                throw new IllegalArgumentException(op + ": outs[" + i + "] " + outs[i].describe() + " overlaps x " + x.describe());
            }
            for (int j = 0; j < ws.length; j++) {
                Tensor b = biases == null ? null : biases[j];
                if (j < i && mayOverlap(outs[i], outs[j])) {
                    throw new IllegalArgumentException(op + ": outs[" + i + "] " + outs[i].describe() + " overlaps outs[" + j + "] "
                            + outs[j].describe());
                }
                if (mayOverlap(outs[i], ws[j]) || b != null && mayOverlap(outs[i], b)) {
                    throw new IllegalArgumentException(op + ": outs[" + i + "] " + outs[i].describe() + " overlaps the weight or bias of ws["
                            + j + "]");
                }
            }
        }
    }

    /** t is alive and on {@code device} (the one-tensor form of {@link #onDevice(String, Device, Tensor...)}: no array). */
    private static void onDevice(String op, Device device, Tensor t) {
        if (!t.isAlive() || !t.device().equals(device)) {
            onDevice(op, device, new Tensor[] {t});
        }
    }

    /** Same storage and overlapping byte ranges (conservative). */
    public static boolean mayOverlap(Tensor a, Tensor b) {
        if (a.storage() != b.storage()) {
            return false;
        }
        long a0 = a.byteOffset();
        long b0 = b.byteOffset();
        long a1 = a0 + span(a);
        long b1 = b0 + span(b);
        return a0 < b1 && b0 < a1;
    }

    /** Bytes from the first to one past the last element of t (0 when empty). */
    private static long span(Tensor t) {
        long last = 0;
        for (int d = 0; d < t.rank(); d++) {
            if (t.dim(d) == 0) {
                return 0;
            }
            last += (t.dim(d) - 1) * t.stride(d);
        }
        return t.byteOffsetOf(t.offset() + last) - t.byteOffset() + t.dtype().blockBytes();
    }

    public static void require(boolean condition, String op, String message) {
        if (!condition) {
            throw new IllegalArgumentException(op + ": " + message);
        }
    }
}

package mgm.runtime.cpu;

import mgm.runtime.DType;
import mgm.runtime.Device;
import mgm.runtime.OpChecks;
import mgm.runtime.Tensor;

/**
 * Allocation-free forms of the {@link OpChecks} argument checks for the decode hot path: the
 * common case tests fields directly and only a failing check calls OpChecks (varargs, message
 * building) so that the message is the same as on every other backend.
 */
final class Checks {
    private Checks() {}

    static IllegalArgumentException fail(String op, String message) {
        return new IllegalArgumentException(op + ": " + message);
    }

    static void on(String op, Tensor t) {
        if (t != null && (!t.isAlive() || t.device() != Device.CPU && !t.device().equals(Device.CPU))) {
            OpChecks.onDevice(op, Device.CPU, t);
        }
    }

    static void dtype(String op, String name, Tensor t, DType d) {
        if (t.dtype() != d) {
            OpChecks.dtype(op, name, t, d);
        }
    }

    static void dtype(String op, String name, Tensor t, DType a, DType b, DType c) {
        DType d = t.dtype();
        if (d != a && d != b && d != c) {
            OpChecks.dtype(op, name, t, a, b, c);
        }
    }

    static void shape(String op, String name, Tensor t, long d0) {
        if (t.rank() != 1 || t.dim(0) != d0) {
            OpChecks.shape(op, name, t, d0);
        }
    }

    static void shape(String op, String name, Tensor t, long d0, long d1) {
        if (t.rank() != 2 || t.dim(0) != d0 || t.dim(1) != d1) {
            OpChecks.shape(op, name, t, d0, d1);
        }
    }

    static void shape(String op, String name, Tensor t, long d0, long d1, long d2) {
        if (t.rank() != 3 || t.dim(0) != d0 || t.dim(1) != d1 || t.dim(2) != d2) {
            OpChecks.shape(op, name, t, d0, d1, d2);
        }
    }

    static void shape(String op, String name, Tensor t, long d0, long d1, long d2, long d3) {
        if (t.rank() != 4 || t.dim(0) != d0 || t.dim(1) != d1 || t.dim(2) != d2 || t.dim(3) != d3) {
            OpChecks.shape(op, name, t, d0, d1, d2, d3);
        }
    }

    /** {@code b} broadcasts to {@code a} (NumPy rules), checked without copying shapes. */
    static void broadcastable(String op, Tensor a, Tensor b) {
        boolean ok = b.rank() <= a.rank();
        for (int i = 1; ok && i <= b.rank(); i++) {
            long bd = b.dim(b.rank() - i);
            ok = bd == 1 || bd == a.dim(a.rank() - i);
        }
        if (!ok) {
            OpChecks.broadcastable(op, a, b);
        }
    }
}

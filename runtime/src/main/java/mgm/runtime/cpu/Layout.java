package mgm.runtime.cpu;

import mgm.runtime.Tensor;

/** Which views the fast kernels can address directly; anything else goes to the reference backend. */
final class Layout {
    private Layout() {}

    /**
     * The element stride between consecutive rows when {@code t} is read as rows of its last
     * dimension (unit stride) whose leading dims collapse to one stride; -1 otherwise.
     */
    static long rowStride(Tensor t) {
        int r = t.rank();
        if (r == 0) {
            return -1;
        }
        if (t.dim(r - 1) > 1 && t.stride(r - 1) != 1) {
            return -1;
        }
        if (r == 1) {
            return t.dim(0);
        }
        long stride = -1;
        long expect = -1;
        for (int d = r - 2; d >= 0; d--) {
            if (t.dim(d) == 1) {
                continue;
            }
            if (stride < 0) {
                stride = t.stride(d);
            } else if (t.stride(d) != expect) {
                return -1;
            }
            expect = t.stride(d) * t.dim(d);
        }
        return stride < 0 ? t.dim(r - 1) : stride;
    }

    static long rows(Tensor t) {
        long d = t.dim(-1);
        return d == 0 ? 0 : t.numel() / d;
    }

    /** Identical view of the same storage (in-place call). */
    static boolean sameView(Tensor a, Tensor b) {
        if (a.storage() != b.storage() || a.offset() != b.offset() || a.rank() != b.rank()) {
            return false;
        }
        for (int d = 0; d < a.rank(); d++) {
            if (a.dim(d) != b.dim(d) || (a.dim(d) > 1 && a.stride(d) != b.stride(d))) {
                return false;
            }
        }
        return true;
    }
}

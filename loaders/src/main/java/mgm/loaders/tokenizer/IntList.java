package mgm.loaders.tokenizer;

import java.util.Arrays;

/** A growable int array. */
final class IntList {
    private int[] a;
    private int n;

    IntList() {
        this(16);
    }

    IntList(int cap) {
        a = new int[Math.max(4, cap)];
    }

    void add(int v) {
        if (n == a.length) {
            a = Arrays.copyOf(a, a.length * 2);
        }
        a[n++] = v;
    }

    void addAll(int[] vs) {
        addAll(vs, 0, vs.length);
    }

    void addAll(int[] vs, int from, int to) {
        int len = to - from;
        if (n + len > a.length) {
            a = Arrays.copyOf(a, Math.max(a.length * 2, n + len));
        }
        System.arraycopy(vs, from, a, n, len);
        n += len;
    }

    int size() {
        return n;
    }

    int get(int i) {
        return a[i];
    }

    void clear() {
        n = 0;
    }

    int[] toArray() {
        return Arrays.copyOf(a, n);
    }
}

package mgm.loaders.tokenizer;

/** A binary min-heap of (long key, int value); pop leaves the removed entry just past the end. */
final class LongIntHeap {
    private long[] keys;
    private int[] values;
    private int size;

    LongIntHeap(int cap) {
        keys = new long[Math.max(16, cap)];
        values = new int[keys.length];
    }

    int size() {
        return size;
    }

    void push(long key, int value) {
        if (size == keys.length) {
            keys = java.util.Arrays.copyOf(keys, size * 2);
            values = java.util.Arrays.copyOf(values, size * 2);
        }
        int i = size++;
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (keys[p] <= key) {
                break;
            }
            keys[i] = keys[p];
            values[i] = values[p];
            i = p;
        }
        keys[i] = key;
        values[i] = value;
    }

    void pop() {
        long topK = keys[0];
        int topV = values[0];
        int n = --size;
        long k = keys[n];
        int v = values[n];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= n) {
                break;
            }
            if (c + 1 < n && keys[c + 1] < keys[c]) {
                c++;
            }
            if (keys[c] >= k) {
                break;
            }
            keys[i] = keys[c];
            values[i] = values[c];
            i = c;
        }
        keys[i] = k;
        values[i] = v;
        keys[n] = topK;
        values[n] = topV;
    }

    long lastKey() {
        return keys[size];
    }

    int lastValue() {
        return values[size];
    }
}

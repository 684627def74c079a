package mgm.loaders.tokenizer;

import java.util.Arrays;

/** Open-addressing map from non-negative int keys to int values; get returns -1 when absent. */
final class IntIntMap {
    private int[] keys;
    private int[] values;
    private int size;
    private int mask;

    IntIntMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new int[cap];
        values = new int[cap];
        Arrays.fill(keys, -1);
        mask = cap - 1;
    }

    int get(int key) {
        int i = (key * 0x9E3779B9) >>> 7 & mask;
        while (true) {
            int k = keys[i];
            if (k == key) {
                return values[i];
            }
            if (k == -1) {
                return -1;
            }
            i = (i + 1) & mask;
        }
    }

    void put(int key, int value) {
        if ((size + 1) * 2 > keys.length) {
            int[] ok = keys;
            int[] ov = values;
            keys = new int[ok.length * 2];
            values = new int[ok.length * 2];
            Arrays.fill(keys, -1);
            mask = keys.length - 1;
            size = 0;
            for (int i = 0; i < ok.length; i++) {
                if (ok[i] != -1) {
                    put(ok[i], ov[i]);
                }
            }
        }
        int i = (key * 0x9E3779B9) >>> 7 & mask;
        while (true) {
            if (keys[i] == key) {
                values[i] = value;
                return;
            }
            if (keys[i] == -1) {
                keys[i] = key;
                values[i] = value;
                size++;
                return;
            }
            i = (i + 1) & mask;
        }
    }
}

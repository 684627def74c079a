package mgm.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Decode attention sizes its per-thread scratch once per cache, for {@link DecodeAttentionTask#longestItem};
 * no call over that cache may make a longer item, or the scratch would be made again mid-generation.
 * Items aim at {@link DecodeAttentionTask#ITEM_KEY_BYTES} of key rows.
 */
class DecodeAttentionItemsTest {
    /** Bytes of a key row over every kv head: tiny test models, Gemma's MQA, TinyLlama, LLaMA-3, an F32 cache, MHA 7B. */
    private static final long[] ROW_BYTES = {16, 512, 1024, 2048, 4096, 8192};

    @Test
    void noCallMakesAnItemLongerThanItsCacheAllows() {
        for (long rowBytes : ROW_BYTES) {
            for (int threads = 1; threads <= 64; threads = threads < 4 ? threads + 1 : threads * 2) {
                for (int capacity : new int[] {16, 63, 64, 100, 640, 2048, 4096, 32768, 131072}) {
                    int longest = DecodeAttentionTask.longestItem(capacity, threads, rowBytes);
                    for (int keys = DecodeAttentionTask.MIN_KEYS; keys <= capacity; keys++) {
                        int item = DecodeAttentionTask.itemKeys(keys, threads, rowBytes);
                        assertTrue(item <= longest, keys + " keys of " + capacity + " (rows of " + rowBytes + " bytes), " + threads
                                + " threads: items of " + item + " keys, scratch for " + longest);
                    }
                }
            }
        }
    }

    @Test
    void itemsHoldAboutTheirByteTargetAndEveryThreadGetsWork() {
        // TinyLlama (16 / 4 heads of 128, F16 rows of 1 KB), 2 threads: 256 keys are one item per thread, not eight
        assertEquals(128, DecodeAttentionTask.itemKeys(256, 2, 1024));
        assertEquals(320, DecodeAttentionTask.itemKeys(640, 2, 1024));
        // 1024 keys: two items of 256 KB per thread
        assertEquals(256, DecodeAttentionTask.itemKeys(1024, 2, 1024));
        // long caches: at most four items per thread, as before
        assertEquals(512, DecodeAttentionTask.itemKeys(4096, 2, 1024));
        // MHA rows of 8 KB: 100 keys are still three items (at least MIN_CHUNK keys each)
        assertEquals(34, DecodeAttentionTask.itemKeys(100, 2, 8192));
        // below 2 MIN_CHUNK keys a call is one item
        assertEquals(63, DecodeAttentionTask.itemKeys(63, 2, 1024));
    }

    @Test
    void theBoundIsTightEnoughToBeWorthIt() {
        // a 4096-key cache on 2 threads: eighths of it, not the whole cache per item
        assertEquals(512, DecodeAttentionTask.longestItem(4096, 2, 1024));
        // the byte target, for caches whose threads hold less than four items' worth
        assertEquals(320, DecodeAttentionTask.longestItem(2048, 2, 1024));
        assertEquals(63, DecodeAttentionTask.longestItem(100, 2, 8192), "MHA rows: below 64 keys a call is one item, above items of 40");
        assertEquals(100, DecodeAttentionTask.longestItem(100, 2, 1024), "never more than the cache holds");
    }
}

package mgm.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Decode attention sizes its per-thread scratch once per cache, for {@link DecodeAttentionTask#longestItem};
 * no call over that cache may make a longer item, or the scratch would be made again mid-generation.
 */
class DecodeAttentionItemsTest {

    @Test
    void noCallMakesAnItemLongerThanItsCacheAllows() {
        for (int threads = 1; threads <= 64; threads = threads < 4 ? threads + 1 : threads * 2) {
            for (int capacity : new int[] {16, 63, 64, 100, 640, 2048, 4096, 32768, 131072}) {
                int longest = DecodeAttentionTask.longestItem(capacity, threads);
                for (int keys = DecodeAttentionTask.MIN_KEYS; keys <= capacity; keys++) {
                    int item = DecodeAttentionTask.itemKeys(keys, threads);
                    assertTrue(item <= longest, keys + " keys of " + capacity + ", " + threads + " threads: items of " + item
                            + " keys, scratch for " + longest);
                }
            }
        }
    }

    @Test
    void theBoundIsTightEnoughToBeWorthIt() {
        // a 4096-key cache on 2 threads: eighths of it, not the whole cache per item
        assertEquals(512, DecodeAttentionTask.longestItem(4096, 2));
        assertEquals(512, DecodeAttentionTask.itemKeys(4096, 2));
        assertEquals(63, DecodeAttentionTask.longestItem(100, 2), "below 64 keys a call is one item");
    }
}

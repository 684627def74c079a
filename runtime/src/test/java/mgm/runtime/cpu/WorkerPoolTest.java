package mgm.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

class WorkerPoolTest {

    @Test
    void everyChunkRunsExactlyOnceOnAllThreadCounts() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                for (int n : new int[] {0, 1, 2, 7, 1000}) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, n));
                    boolean[] badWorker = new boolean[1];
                    pool.run((chunk, worker) -> {
                        hits.incrementAndGet(chunk);
                        if (worker < 0 || worker >= threads) {
                            badWorker[0] = true;
                        }
                    }, n);
                    for (int c = 0; c < n; c++) {
                        assertEquals(1, hits.get(c), threads + " threads, " + n + " chunks: chunk " + c);
                    }
                    assertTrue(!badWorker[0], "worker index out of range");
                }
            }
        }
    }

    @Test
    void aFailingChunkPropagatesToTheCallerAndThePoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(3)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run((chunk, worker) -> {
                if (chunk == 17) {
                    throw new IllegalStateException("chunk 17 failed");
                }
            }, 100));
            assertEquals("chunk 17 failed", e.getMessage());
            AtomicIntegerArray hits = new AtomicIntegerArray(50);
            pool.run((chunk, worker) -> hits.incrementAndGet(chunk), 50);
            for (int c = 0; c < 50; c++) {
                assertEquals(1, hits.get(c));
            }
        }
    }

    @Test
    void rejectsBadThreadCountsAndUseAfterClose() {
        assertThrows(IllegalArgumentException.class, () -> new WorkerPool(0));
        WorkerPool pool = new WorkerPool(2);
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.run((chunk, worker) -> { }, 4));
    }
}

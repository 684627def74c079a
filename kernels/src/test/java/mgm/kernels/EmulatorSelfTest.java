package mgm.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@link SelfTestKernels} on the emulator, plus the errors only the emulator detects. */
class EmulatorSelfTest extends SelfTestKernels {
    @Override
    Driver open() {
        String lib = System.getProperty("mgm.emulator.selftest", "target/emu/libmgm_emu_selftest.so");
        assumeTrue(Files.isRegularFile(Path.of(lib)), "emulator self-test library " + lib + " not built (no g++?)");
        EmulatedDriver d = EmulatedDriver.open(Path.of(lib));
        d.setThreads(2);
        return d;
    }

    @Test
    void schedulesExposeAMissingBarrier() {
        EmulatedDriver d = (EmulatedDriver) driver;
        long out = d.malloc(4 * 64);
        int[][] results = new int[3][];
        try {
            for (EmulatedDriver.Schedule s : EmulatedDriver.Schedule.values()) {
                d.setSchedule(s);
                launch("selftest_race", 1, 64, 0, new KernelArgs().ptr(out));
                results[s.ordinal()] = downloadInts(out, 64);
            }
        } finally {
            d.setSchedule(EmulatedDriver.Schedule.FORWARD);
        }
        assertEquals(-1, results[0][1], "forward: thread 1 reads thread 2's slot before thread 2 writes it");
        assertEquals(2, results[1][1], "reverse: thread 2 has written already");
        assertFalse(java.util.Arrays.equals(results[0], results[1]), "the race shows as different results");
        d.free(out);
    }

    @Test
    void deadlockIsReported() {
        long p = driver.malloc(4 * 64);
        CudaException e = assertThrows(CudaException.class, () -> launch("selftest_deadlock", 1, 64, 0, new KernelArgs().ptr(p)));
        assertTrue(e.getMessage().contains("deadlock"), e.getMessage());
        driver.free(p);
    }

    @Test
    void shuffleOutsideItsMaskIsReported() {
        long p = driver.malloc(4 * 32);
        CudaException e = assertThrows(CudaException.class, () -> launch("selftest_bad_shuffle", 1, 32, 0, new KernelArgs().ptr(p)));
        assertTrue(e.getMessage().contains("not in mask"), e.getMessage());
        driver.free(p);
    }

    @Test
    void outOfBoundsWriteIsCaughtByGuards() {
        int[] in = new int[256];
        long pin = uploadInts(in), small = driver.malloc(4 * 255);
        CudaException e = assertThrows(CudaException.class,
                () -> launch("selftest_block_reverse", 1, 256, 0, new KernelArgs().ptr(pin).ptr(small)));
        assertTrue(e.getMessage().contains("past the end"), e.getMessage());
        driver.free(pin);
        assertThrows(CudaException.class, () -> driver.free(small), "freeing reports the damage again");
    }

    @Test
    void copiesOutsideAllocationsAreRejected() {
        long p = driver.malloc(64);
        MemorySegment host = Arena.ofAuto().allocate(128);
        CudaException e = assertThrows(CudaException.class, () -> driver.copyToDevice(p, host, 128));
        assertTrue(e.getMessage().contains("outside every device allocation"), e.getMessage());
        assertThrows(CudaException.class, () -> driver.memset(p + 32, 0, 64));
        driver.free(p);
        assertThrows(CudaException.class, () -> driver.free(p), "double free");
    }
}

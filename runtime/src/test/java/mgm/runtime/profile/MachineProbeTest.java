package mgm.runtime.profile;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The FMA scaling probe against what it must read whatever the host: one thread against one thread
 * is the same work (about 1), and N threads can neither beat N cores nor fall far below one core.
 * Best-of-rounds on both sides keeps a noisy neighbour's stolen rounds out of the ratio.
 */
class MachineProbeTest {

    @Test
    void oneThreadScalesLikeItself() {
        double s = MachineProbe.fmaScaling(1, 30_000_000L);
        assertTrue(s > 0.75 && s < 1.33, "one thread's FMA rate over one thread's: " + s);
    }

    @Test
    void twoThreadsScaleBetweenOneSharedCoreAndTwoCores() {
        double s = MachineProbe.fmaScaling(2, 30_000_000L);
        // 2 threads on one vCPU still share its time: ~1; on SMT siblings 1.1-1.2; on two cores ~2
        assertTrue(s > 0.5 && s < 2.5, "two threads' FMA rate over one thread's: " + s);
    }
}

package mgm.loaders;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/** Seeded mutations of valid files, and the check that a mutant either loads or fails cleanly. */
public final class Fuzz {
    private Fuzz() {}

    /** One to four random byte changes, a truncation, or both. */
    public static byte[] mutate(byte[] valid, Random rnd) {
        byte[] b = valid.clone();
        int kind = rnd.nextInt(4);
        if (kind != 1) {
            int flips = 1 + rnd.nextInt(4);
            for (int i = 0; i < flips; i++) {
                int at = rnd.nextInt(b.length);
                b[at] = switch (rnd.nextInt(4)) {
                    case 0 -> (byte) (b[at] ^ (1 << rnd.nextInt(8)));  // one bit
                    case 1 -> (byte) 0xFF;
                    case 2 -> 0;
                    default -> (byte) rnd.nextInt(256);
                };
            }
        }
        if (kind != 0 && kind != 2) {
            b = Arrays.copyOf(b, rnd.nextInt(b.length));
        }
        return b;
    }

    /**
     * Writes {@code bytes} to {@code file}, opens it with {@code opener} and reads every tensor.
     * Returns true when it loaded, false when it failed with a CheckpointException; any other
     * exception fails the test with the case that caused it.
     */
    public static boolean loadsOrFailsCleanly(Path file, byte[] bytes, Function<Path, Checkpoint> opener, String what) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (Checkpoint c = opener.apply(file)) {
            for (String name : c.names()) {
                TensorInfo info = c.info(name);
                Tensor t = c.tensor(name);
                if (info.dtype() != t.dtype() || !Arrays.equals(info.shape(), t.shape())) {
                    fail(what + ": header and tensor disagree for " + name);
                }
                touch(t);
            }
            return true;
        } catch (CheckpointException expected) {
            if (expected.getMessage().contains("\n")) {
                fail(what + ": multi-line message " + expected.getMessage());
            }
            return false;
        } catch (RuntimeException | Error e) {
            throw new AssertionError(what + ": unclean failure " + e, e);
        }
    }

    /** Reads the tensor's elements (all of them when small, the first and last otherwise). */
    private static void touch(Tensor t) {
        long n = t.numel();
        if (n == 0) {
            return;
        }
        boolean integer = !t.dtype().isFloatingPoint() && !t.dtype().isQuantized();
        if (n <= 1 << 16) {
            if (integer) {
                t.toIntArray();
            } else {
                t.toFloatArray();
            }
            return;
        }
        long[] first = new long[t.rank()];
        long[] last = t.shape();
        for (int i = 0; i < last.length; i++) {
            last[i]--;
        }
        for (long[] idx : new long[][] {first, last}) {
            if (integer) {
                t.getLong(idx);
            } else {
                t.getFloat(idx);
            }
        }
    }

    /** Whether a dtype is read through getLong. */
    static boolean isInteger(DType d) {
        return !d.isFloatingPoint() && !d.isQuantized();
    }
}

package mgm.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Random;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import mgm.runtime.DType;
import mgm.runtime.Tensor;
import mgm.runtime.cpu.CpuBackend;

/**
 * Whether the decode kernels depend on which kinds of memory segment the rest of the program has
 * passed through vector loads. The library's segment accessors keep one JVM-wide type profile, and
 * a kernel that loads from a segment parameter is compiled from it: first (before the kernels
 * compile) vector loads go through segments of the chosen kind, then cache-resident GEMVs (2048 x
 * 512, Q4_0 / Q8_0 / F16 / BF16 in the layout a model loads) and a 640-key F16 decode attention
 * (16 / 4 heads of 128) run on one thread, best of many calls. Run once per kind, each in a fresh JVM:
 * <pre>java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar mgm.bench.SegmentProfileReport [--first none|mapped|heap]</pre>
 * {@code mapped} is what a real checkpoint does (its memory-mapped tensors are read by vector
 * loads); {@code heap} is what any code using {@code MemorySegment.ofArray} with vectors would do.
 */
public final class SegmentProfileReport {
    private SegmentProfileReport() {}

    public static void main(String[] args) throws IOException {
        String first = "none";
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--first") && i + 1 < args.length) {
                first = args[++i];
            } else {
                System.err.println("usage: SegmentProfileReport [--first none|mapped|heap]");
                System.exit(2);
            }
        }
        switch (first) {
            case "none" -> { }
            case "mapped" -> vectorLoads(mappedSegment());
            case "heap" -> vectorLoads(MemorySegment.ofArray(new byte[4096]));
            default -> {
                System.err.println("SegmentProfileReport: --first must be none, mapped or heap, not " + first);
                System.exit(2);
            }
        }
        Random r = new Random(3);
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "vector loads through %-6s segments first:", first));
        try (CpuBackend cpu = new CpuBackend(1)) {
            for (DType dt : new DType[] {DType.Q4_0, DType.Q8_0, DType.F16, DType.BF16}) {
                try (Tensor stored = Workloads.weight(r, dt, 512, 2048); Tensor w = cpu.prepareLinear(stored);
                     Tensor x = Workloads.randomF32(r, 1, 2048); Tensor out = Tensor.allocate(DType.F32, 1, 512)) {
                    long best = Long.MAX_VALUE;
                    for (int i = 0; i < 20_000; i++) {
                        long t0 = System.nanoTime();
                        cpu.matmul(x, w, null, out);
                        best = Math.min(best, System.nanoTime() - t0);
                    }
                    line.append(String.format(Locale.ROOT, " %s %.1f GB/s,", dt, dt.byteSize(512L * 2048) / (double) best));
                }
            }
            try (Tensor q = Workloads.randomF32(r, 1, 16, 128); Tensor kf = Workloads.randomF32(r, 640, 4, 128);
                 Tensor vf = Workloads.randomF32(r, 640, 4, 128); Tensor k = Tensor.allocate(DType.F16, 640, 4, 128);
                 Tensor v = Tensor.allocate(DType.F16, 640, 4, 128); Tensor o = Tensor.allocate(DType.F32, 1, 16, 128)) {
                cpu.copy(kf, k);
                cpu.copy(vf, v);
                long best = Long.MAX_VALUE;
                for (int i = 0; i < 3000; i++) {
                    long t0 = System.nanoTime();
                    cpu.attention(q, k, v, 0.088f, true, 639, o);
                    best = Math.min(best, System.nanoTime() - t0);
                }
                line.append(String.format(Locale.ROOT, " decode attention %.1f us", best / 1e3));
            }
        }
        System.out.println(line);
    }

    /** A 4 KB memory-mapped file, as a checkpoint's tensors are. */
    private static MemorySegment mappedSegment() throws IOException {
        Path file = Files.createTempFile("mgm-segment-profile", ".bin");
        file.toFile().deleteOnExit();
        Files.write(file, new byte[4096]);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, 4096, Arena.global());
        }
    }

    /** Float, int and byte vector loads from seg, often enough for C2 to profile them. */
    private static void vectorLoads(MemorySegment seg) {
        float sum = 0;
        for (int i = 0; i < 200_000; i++) {
            long at = (i * 64L) & 2047;
            sum += FloatVector.fromMemorySegment(FloatVector.SPECIES_PREFERRED, seg, at, ByteOrder.LITTLE_ENDIAN).reduceLanes(VectorOperators.ADD);
            sum += IntVector.fromMemorySegment(IntVector.SPECIES_PREFERRED, seg, at, ByteOrder.LITTLE_ENDIAN).lane(0);
            sum += ByteVector.fromMemorySegment(ByteVector.SPECIES_256, seg, at, ByteOrder.LITTLE_ENDIAN).lane(1);
            sum += ByteVector.fromMemorySegment(ByteVector.SPECIES_128, seg, at, ByteOrder.LITTLE_ENDIAN).lane(1);
        }
        if (sum != 0) {
            throw new IllegalStateException("zeroed segment read as " + sum);
        }
    }
}

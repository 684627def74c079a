package mgm.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import mgm.runtime.Numerics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The CUDA features the emulator provides, exercised by kernels with known results: shared memory
 * and barriers, shuffles and votes (full and half-warp), atomics across blocks, dynamic shared
 * memory, 3-D indices, WMMA, half/bfloat16 conversions. The same kernels
 * ({@code src/test/cuda/emu_selftest.cu}) run on the emulator ({@link EmulatorSelfTest}, which
 * adds the errors it must raise) and on a real GPU ({@link GpuSelfTest}): agreement there is the
 * evidence that the emulator's semantics are the hardware's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SelfTestKernels {
    static final String MODULE = "emu_selftest";
    Driver driver;

    abstract Driver open();

    @BeforeAll
    void openDriver() {
        driver = open();
    }

    @AfterAll
    void closeDriver() {
        if (driver != null) {
            driver.close();
        }
    }

    long upload(float[] v) {
        long p = driver.malloc(4L * v.length);
        MemorySegment host = Arena.ofAuto().allocate(4L * v.length, 4);
        MemorySegment.copy(v, 0, host, ValueLayout.JAVA_FLOAT, 0, v.length);
        driver.copyToDevice(p, host, 4L * v.length);
        return p;
    }

    long uploadInts(int[] v) {
        long p = driver.malloc(4L * v.length);
        MemorySegment host = Arena.ofAuto().allocate(4L * v.length, 4);
        MemorySegment.copy(v, 0, host, ValueLayout.JAVA_INT, 0, v.length);
        driver.copyToDevice(p, host, 4L * v.length);
        return p;
    }

    long uploadShorts(short[] v) {
        long p = driver.malloc(2L * v.length);
        MemorySegment host = Arena.ofAuto().allocate(2L * v.length, 2);
        MemorySegment.copy(v, 0, host, ValueLayout.JAVA_SHORT, 0, v.length);
        driver.copyToDevice(p, host, 2L * v.length);
        return p;
    }

    float[] download(long p, int n) {
        MemorySegment host = Arena.ofAuto().allocate(4L * n, 4);
        driver.copyToHost(host, p, 4L * n);
        return host.toArray(ValueLayout.JAVA_FLOAT);
    }

    int[] downloadInts(long p, int n) {
        MemorySegment host = Arena.ofAuto().allocate(4L * n, 4);
        driver.copyToHost(host, p, 4L * n);
        return host.toArray(ValueLayout.JAVA_INT);
    }

    void launch(String kernel, int grid, int block, int shared, KernelArgs args) {
        driver.launch(driver.kernel(MODULE, kernel), grid, 1, 1, block, 1, 1, shared, args);
    }

    @Test
    void sharedMemoryAndBarrier() {
        int[] in = new int[512];
        for (int i = 0; i < in.length; i++) {
            in[i] = i * 7 + 1;
        }
        long pin = uploadInts(in), pout = driver.malloc(4 * 512);
        launch("selftest_block_reverse", 2, 256, 0, new KernelArgs().ptr(pin).ptr(pout));
        int[] out = downloadInts(pout, 512);
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < 256; t++) {
                assertEquals(in[b * 256 + 255 - t], out[b * 256 + t]);
            }
        }
        driver.free(pin);
        driver.free(pout);
    }

    @Test
    void shufflesAndVotes() {
        Random r = new Random(1);
        float[] in = new float[128];
        for (int i = 0; i < in.length; i++) {
            in[i] = r.nextInt(41) - 20;  // small integers: sums are exact whatever the order
        }
        long pin = upload(in), pout = driver.malloc(4L * 128 * 8);
        launch("selftest_shuffles", 2, 64, 0, new KernelArgs().ptr(pin).ptr(pout));
        float[] out = download(pout, 128 * 8);
        for (int w = 0; w < 4; w++) {
            float sum = 0;
            long ballot = 0;
            boolean any = false, all = true;
            for (int l = 0; l < 32; l++) {
                float v = in[w * 32 + l];
                sum += v;
                ballot |= (v > 0 ? 1L : 0L) << l;
                any |= v > 100;
                all &= v > -100;
            }
            for (int l = 0; l < 32; l++) {
                int t = w * 32 + l;
                float[] o = java.util.Arrays.copyOfRange(out, t * 8, t * 8 + 8);
                assertEquals(sum, o[0], "butterfly sum, thread " + t);
                if (l == 0) {
                    assertEquals(sum, o[1], "shfl_down sum");
                }
                assertEquals(l == 0 ? in[t] : in[t - 1], o[2], "shfl_up");
                assertEquals(in[w * 32 + 7], o[3], "broadcast");
                assertEquals((float) ballot, o[4], "ballot");
                assertEquals(any ? 1f : 0f, o[5], "any");
                assertEquals(all ? 1f : 0f, o[6], "all");
                assertEquals(in[w * 32 + ((l & ~7) | ((l & 7) ^ 3))], o[7], "xor within 8-lane segments");
            }
        }
        driver.free(pin);
        driver.free(pout);
    }

    @Test
    void halfWarpCollectivesRunIndependently() {
        float[] in = new float[64];
        for (int i = 0; i < in.length; i++) {
            in[i] = i;
        }
        long pin = upload(in), pout = driver.malloc(4 * 64);
        launch("selftest_half_warps", 1, 64, 0, new KernelArgs().ptr(pin).ptr(pout));
        float[] out = download(pout, 64);
        for (int t = 0; t < 64; t++) {
            int base = t / 16 * 16;
            float s = 0;
            for (int j = 0; j < 16; j++) {
                s += in[base + j];
            }
            assertEquals(s, out[t], "thread " + t);
        }
        driver.free(pin);
        driver.free(pout);
    }

    @Test
    void atomicsAcrossBlocksAndThreads() {
        int n = 1000;
        float[] v = new float[n];
        Random r = new Random(2);
        int lastPositive = -1;
        float sum = 0;
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(11) - 5;  // integers: any summation order is exact
            sum += v[i];
            if (v[i] > 0) {
                lastPositive = i;
            }
        }
        long pv = upload(v), count = uploadInts(new int[1]), fsum = upload(new float[1]), max = uploadInts(new int[] {-1});
        launch("selftest_atomics", 8, 128, 0, new KernelArgs().ptr(pv).i32(n).ptr(count).ptr(fsum).ptr(max));
        assertEquals(n, downloadInts(count, 1)[0]);
        assertEquals(sum, download(fsum, 1)[0]);
        assertEquals(lastPositive, downloadInts(max, 1)[0]);
        for (long p : new long[] {pv, count, fsum, max}) {
            driver.free(p);
        }
    }

    @Test
    void dynamicSharedMemory() {
        float[] in = new float[3 * 128];
        for (int i = 0; i < in.length; i++) {
            in[i] = i % 13;
        }
        long pin = upload(in), pout = driver.malloc(4 * 3);
        launch("selftest_dynamic_shared", 3, 128, 128 * 4, new KernelArgs().ptr(pin).ptr(pout));
        float[] out = download(pout, 3);
        for (int b = 0; b < 3; b++) {
            float s = 0;
            for (int i = 0; i < 128; i++) {
                s += in[b * 128 + i];
            }
            assertEquals(s, out[b]);
        }
        driver.free(pin);
        driver.free(pout);
    }

    @Test
    void threeDimensionalIndices() {
        int gx = 2, gy = 3, gz = 2, bx = 4, by = 2, bz = 3;
        int threads = gx * gy * gz * bx * by * bz;
        long pout = driver.malloc(4L * threads * 6);
        driver.launch(driver.kernel(MODULE, "selftest_indices"), gx, gy, gz, bx, by, bz, 0, new KernelArgs().ptr(pout));
        int[] out = downloadInts(pout, threads * 6);
        int t = 0;
        for (int z = 0; z < gz; z++) {
            for (int y = 0; y < gy; y++) {
                for (int x = 0; x < gx; x++) {
                    for (int tz = 0; tz < bz; tz++) {
                        for (int ty = 0; ty < by; ty++) {
                            for (int tx = 0; tx < bx; tx++, t++) {
                                assertArrayEquals(new int[] {tx, ty, tz, x, y, z},
                                        java.util.Arrays.copyOfRange(out, t * 6, t * 6 + 6), "thread record " + t);
                            }
                        }
                    }
                }
            }
        }
        driver.free(pout);
    }

    @Test
    void wmmaHalfAndBfloat16() {
        Random r = new Random(3);
        for (boolean bf16 : new boolean[] {false, true}) {
            short[] a = new short[256], b = new short[256];
            float[] af = new float[256], bf = new float[256];
            for (int i = 0; i < 256; i++) {
                float x = (float) r.nextGaussian(), y = (float) r.nextGaussian();
                a[i] = bf16 ? Numerics.f32ToBf16(x) : Numerics.f32ToF16(x);
                b[i] = bf16 ? Numerics.f32ToBf16(y) : Numerics.f32ToF16(y);
                af[i] = bf16 ? Numerics.bf16ToF32(a[i]) : Numerics.f16ToF32(a[i]);
                bf[i] = bf16 ? Numerics.bf16ToF32(b[i]) : Numerics.f16ToF32(b[i]);
            }
            long pa = uploadShorts(a), pb = uploadShorts(b), pc = driver.malloc(4 * 256);
            launch(bf16 ? "selftest_wmma_bf16" : "selftest_wmma_f16", 1, 32, 0, new KernelArgs().ptr(pa).ptr(pb).ptr(pc));
            float[] c = download(pc, 256);
            for (int i = 0; i < 16; i++) {
                for (int j = 0; j < 16; j++) {
                    double s = bf16 ? 0 : 1;  // f16 kernel starts from 1
                    for (int k = 0; k < 16; k++) {
                        s += (double) af[i * 16 + k] * bf[j * 16 + k];  // b is column-major: b[n * 16 + k]
                    }
                    float got = bf16 ? c[j * 16 + i] : c[i * 16 + j];  // bf16 kernel stores column-major
                    assertEquals(s, got, 1e-5 * (1 + Math.abs(s)), (bf16 ? "bf16" : "f16") + " c[" + i + "][" + j + "]");
                }
            }
            driver.free(pa);
            driver.free(pb);
            driver.free(pc);
        }
    }

    @Test
    void halfAndBfloat16ConversionsMatchJava() {
        Random r = new Random(4);
        int n = 4096;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 8) {
                case 0 -> Float.intBitsToFloat(r.nextInt());  // any bit pattern
                case 1 -> (float) r.nextGaussian() * 1e-6f;  // fp16 subnormals
                case 2 -> (float) r.nextGaussian() * 70000f;  // fp16 overflow
                case 3 -> Numerics.f16ToF32((short) r.nextInt());  // exactly representable
                case 4 -> Float.intBitsToFloat((r.nextInt() & 0xFFFF0000) | 0x8000);  // bf16 ties
                case 5 -> Float.intBitsToFloat((r.nextInt(0x7FFF) << 13) | 0x1000);  // fp16 ties
                default -> (float) r.nextGaussian();
            };
        }
        x[0] = Float.NaN;
        x[1] = Float.POSITIVE_INFINITY;
        x[2] = -0f;
        x[3] = 65520f;  // rounds to fp16 infinity
        x[4] = 65519.996f;
        x[5] = 0x1p-25f;  // fp16: ties to zero
        x[6] = Math.nextUp(0x1p-25f);
        long px = upload(x), pout = driver.malloc(8L * n), pbits = driver.malloc(4L * n);
        launch("selftest_conversions", (n + 127) / 128, 128, 0, new KernelArgs().ptr(px).ptr(pout).ptr(pbits).i32(n));
        MemorySegment bits = Arena.ofAuto().allocate(4L * n, 2);
        driver.copyToHost(bits, pbits, 4L * n);
        for (int i = 0; i < n; i++) {
            short h = bits.getAtIndex(ValueLayout.JAVA_SHORT, 2L * i);
            short b = bits.getAtIndex(ValueLayout.JAVA_SHORT, 2L * i + 1);
            if (Float.isNaN(x[i])) {
                assertTrue(Float.isNaN(Numerics.f16ToF32(h)) && Float.isNaN(Numerics.bf16ToF32(b)), "NaN stays NaN");
                continue;
            }
            assertEquals(Numerics.f32ToF16(x[i]), h, "fp16 of " + x[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(x[i])) + ")");
            assertEquals(Numerics.f32ToBf16(x[i]), b, "bf16 of " + x[i]);
        }
        driver.free(px);
        driver.free(pout);
        driver.free(pbits);
    }
}

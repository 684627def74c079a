package mgm.kernels;

import static mgm.kernels.HostRef.assertBits;
import static mgm.kernels.HostRef.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import org.junit.jupiter.api.Test;

/** Argument packing, the caching allocator, graph capture / replay / update, and opening a GPU. */
class DriverMachineryTest {

    @Test
    void argumentsSitAtTheirNaturalAlignment() {
        KernelArgs a = new KernelArgs().i32(7).ptr(0x1234_5678_9ABCL).f32(1.5f).view(new long[] {2, 3}, new long[] {3, 1}).i32(-1)
                .ints(1, 2, 3).i64(-5L);
        assertEquals(7, a.count());
        long base = a.pointers().getAtIndex(ValueLayout.ADDRESS, 0).address();
        long[] expectOffsets = {0, 8, 16, 24, 128, 132, 144};
        for (int i = 0; i < a.count(); i++) {
            assertEquals(expectOffsets[i], a.pointers().getAtIndex(ValueLayout.ADDRESS, i).address() - base, "argument " + i);
        }
        assertEquals(7, a.value(0).get(ValueLayout.JAVA_INT, 0));
        assertEquals(0x1234_5678_9ABCL, a.value(1).get(ValueLayout.JAVA_LONG, 0));
        assertEquals(1.5f, a.value(2).get(ValueLayout.JAVA_FLOAT, 0));
        MemorySegment view = a.value(3);
        assertEquals(KernelArgs.VIEW_BYTES, view.byteSize());
        assertEquals(2, view.get(ValueLayout.JAVA_LONG, 0));
        assertEquals(3, view.get(ValueLayout.JAVA_LONG, 8));
        assertEquals(0, view.get(ValueLayout.JAVA_LONG, 16), "unused dims are zero");
        assertEquals(3, view.get(ValueLayout.JAVA_LONG, 48), "strides start after 6 sizes");
        assertEquals(1, view.get(ValueLayout.JAVA_LONG, 56));
        assertEquals(2, view.get(ValueLayout.JAVA_INT, 96), "rank after 6 sizes and 6 strides");
        assertEquals(3, a.value(5).get(ValueLayout.JAVA_INT, 8));
        KernelArgs copy = a.copy();
        a.reset().i32(99);
        assertEquals(7, copy.value(0).get(ValueLayout.JAVA_INT, 0), "a copy keeps its own values");
        assertEquals(-5L, copy.value(6).get(ValueLayout.JAVA_LONG, 0));
        assertThrows(IllegalArgumentException.class, () -> new KernelArgs().view(new long[7], new long[7]));
    }

    @Test
    void sizeClasses() {
        assertEquals(512, DeviceAllocator.sizeClass(0));
        assertEquals(512, DeviceAllocator.sizeClass(512));
        assertEquals(1024, DeviceAllocator.sizeClass(513));
        assertEquals((1L << 20) + (64L << 10), DeviceAllocator.sizeClass((1L << 20) + 1));
        assertEquals(66L << 20, DeviceAllocator.sizeClass((64L << 20) + 1));
    }

    private static CudaBackend emulated() {
        assumeTrue(EmulatedDriver.unavailableReason().isEmpty(), () -> EmulatedDriver.unavailableReason().get());
        return CudaBackend.emulated();
    }

    @Test
    void releasedBlocksAreReused() {
        try (CudaBackend be = emulated()) {
            EmulatedDriver d = (EmulatedDriver) be.driver();
            for (int i = 0; i < 3; i++) {
                Tensor a = be.allocate(DType.F32, 1000);
                Tensor b = be.allocate(DType.BF16, 64, 64);
                a.close();
                b.close();
            }
            assertEquals(3, be.driverAllocations(), "status word + two blocks, each allocated once");
            assertEquals(3, d.allocationCount());
            Tensor z = be.allocate(DType.F32, 1000);  // reused, and zero-filled although the block held data
            assertBits("allocate zero-fills", new float[1000], be.toHost(z).toFloatArray());
            z.close();
            assertTrue(be.memoryReport().contains("driver allocations 3"), be.memoryReport());
        }
    }

    @Test
    void graphsRecordReplayAndUpdate() {
        try (CudaBackend be = emulated()) {
            Random r = new Random(1);
            Tensor xh = random(r, 4, 32), bh = random(r, 32);
            Tensor x = be.toDevice(xh), b = be.toDevice(bh), y = be.allocate(DType.F32, 4, 32), z = be.allocate(DType.F32, 4, 32);
            float[] scale = {2f};
            Runnable step = () -> {
                be.scale(x, scale[0], y);
                be.add(y, b, z);
                be.softmax(z, z);
            };
            step.run();
            float[] direct = be.toHost(z).toFloatArray();
            be.copy(Tensor.allocate(DType.F32, 4, 32), z);

            DeviceGraph g = be.capture(step);
            assertBits("nothing ran while recording", new float[128], be.toHost(z).toFloatArray());
            g.replay();
            assertBits("replay = running the ops", direct, be.toHost(z).toFloatArray());

            // new inputs in the same buffers: the replay reads them
            Tensor xh2 = random(r, 4, 32);
            be.copy(xh2, x);
            step.run();
            float[] direct2 = be.toHost(z).toFloatArray();
            be.copy(Tensor.allocate(DType.F32, 4, 32), z);
            g.replay();
            assertBits("replay with new input", direct2, be.toHost(z).toFloatArray());

            // a changed scalar: the graph is updated in place
            scale[0] = -0.5f;
            step.run();
            float[] direct3 = be.toHost(z).toFloatArray();
            be.copy(Tensor.allocate(DType.F32, 4, 32), z);
            assertTrue(g.update(step));
            g.replay();
            assertBits("updated scalar", direct3, be.toHost(z).toFloatArray());

            // a different sequence of kernels cannot be updated in place
            assertFalse(g.update(() -> be.scale(x, 3f, z)));
            assertEquals(1, g.reinstantiations());
            g.replay();
            float[] xs = xh2.toFloatArray();
            float[] want = new float[xs.length];
            for (int i = 0; i < xs.length; i++) {
                want[i] = xs[i] * 3f;
            }
            assertBits("re-instantiated graph", want, be.toHost(z).toFloatArray());
            g.close();
            assertThrows(IllegalStateException.class, g::replay);

            // no host traffic while recording
            assertThrows(IllegalStateException.class, () -> be.capture(() -> be.toHost(z)));
            assertThrows(IllegalStateException.class, () -> be.capture(be::synchronize));
        }
    }

    @Test
    void scratchUsedWhileRecordingStaysWithTheGraph() {
        try (CudaBackend be = emulated()) {
            Random r = new Random(2);
            Tensor base = be.toDevice(random(r, 16, 8));
            Tensor out = be.allocate(DType.F32, 8, 16);
            // a transposed input is copied to scratch, which is released inside the recording
            DeviceGraph g = be.capture(() -> be.softmax(base.transpose(0, 1), out));
            long before = be.driverAllocations();
            Tensor other = be.allocate(DType.F32, 8, 16);  // must not receive the graph's scratch block
            assertNotEquals(before, be.driverAllocations(), "the scratch block is still reserved for the graph");
            be.copy(be.toDevice(random(r, 8, 16)), other);
            float[] keep = be.toHost(other).toFloatArray();
            g.replay();
            assertBits("replay did not write into another tensor", keep, be.toHost(other).toFloatArray());
            g.close();
            other.close();
        }
    }

    @Test
    void failedRecordingReleasesItsState() {
        try (CudaBackend be = emulated()) {
            Tensor x = be.allocate(DType.F32, 4);
            assertThrows(IllegalArgumentException.class, () -> be.capture(() -> be.scale(x, 1f, be.allocate(DType.F32, 5))));
            be.scale(x, 2f, x);  // the backend works normally again
            be.synchronize();
        }
    }

    @Test
    void openingAGpuSaysWhyNot() {
        CudaBackends.Availability a = CudaBackends.tryOpen();
        if (a.available()) {
            a.backend().close();
            return;
        }
        assertNull(a.backend());
        assertFalse(a.reason().isBlank());
        assertFalse(a.reason().contains("\n"), "one line: " + a.reason());
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaBackends.open(0));
        assertEquals(a.reason(), e.getMessage());
        assertTrue(CudaBackends.tryOpen(-1).reason() != null);
    }
}

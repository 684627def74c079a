package mgm.loaders.torch;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Writes pickle opcodes by hand, for tests that need pickles Python would not produce. */
final class Pickles {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static Pickles proto2() {
        Pickles p = new Pickles();
        return p.op(0x80).op(2);
    }

    Pickles op(int opcode) {
        out.write(opcode);
        return this;
    }

    Pickles raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    Pickles str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X').raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        return raw(b);
    }

    Pickles integer(long v) {
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            return op('J').raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
        }
        return op(0x8a).op(8).raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    Pickles global(String module, String name) {
        return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    /** Pushes a rebuilt tensor: storage key, storage class, numel, offset, size, stride. */
    Pickles tensor(String key, String storageClass, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").op('(');
        op('(').str("storage").global("torch", storageClass).str(key).str("cpu").integer(numel).op('t').op('Q');
        integer(offset);
        op('(');
        for (long s : size) {
            integer(s);
        }
        op('t').op('(');
        for (long s : stride) {
            integer(s);
        }
        op('t').op(0x89).op('}').op('t').op('R');
        return this;
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    /** {@code {name: tensor}} for one tensor, ending in STOP. */
    static byte[] oneTensor(String name, String key, String storageClass, long numel, long offset, long[] size, long[] stride) {
        return proto2().op('}').str(name).tensor(key, storageClass, numel, offset, size, stride).op('s').op('.').bytes();
    }
}

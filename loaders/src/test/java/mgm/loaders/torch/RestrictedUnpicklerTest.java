package mgm.loaders.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;
import mgm.loaders.CheckpointException;
import mgm.loaders.Fixtures;
import org.junit.jupiter.api.Test;

class RestrictedUnpicklerTest {
    private static final Path FILE = Path.of("test.bin");

    static Object unpickle(byte[] pickle) {
        return new RestrictedUnpickler(pickle, FILE, "data.pkl", new TorchPickle("archive/", Map.of())).load();
    }

    /** The same canonical text form make_fixtures.py writes for the Python value. */
    static String canon(Object o) {
        if (o == null) {
            return "N";
        }
        if (o instanceof Boolean b) {
            return b ? "T" : "F";
        }
        if (o instanceof Long || o instanceof BigInteger) {
            return "i" + o;
        }
        if (o instanceof Double d) {
            return "f" + String.format("%016x", Double.doubleToRawLongBits(d));
        }
        if (o instanceof String s) {
            return "s" + HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8));
        }
        if (o instanceof byte[] b) {
            return "b" + HexFormat.of().formatHex(b);
        }
        if (o instanceof Py.Tuple t) {
            return "(" + String.join(",", t.items().stream().map(RestrictedUnpicklerTest::canon).toList()) + ")";
        }
        if (o instanceof List<?> l) {
            return "[" + String.join(",", l.stream().map(RestrictedUnpicklerTest::canon).toList()) + "]";
        }
        if (o instanceof Map<?, ?> m) {
            StringBuilder b = new StringBuilder("{");
            for (Entry<?, ?> e : m.entrySet()) {
                b.append(b.length() > 1 ? "," : "").append(canon(e.getKey())).append(':').append(canon(e.getValue()));
            }
            return b.append('}').toString();
        }
        throw new AssertionError(o.getClass());
    }

    @Test
    void readsWhatPythonPicklesInEveryProtocol() {
        JsonNode all = Fixtures.json("checkpoints/torch/pickles.json");
        for (int proto = 0; proto <= 5; proto++) {
            JsonNode p = all.get(Integer.toString(proto));
            Object value = unpickle(HexFormat.of().parseHex(p.get("pickle").asText()));
            assertEquals(p.get("canon").asText(), canon(value), "protocol " + proto);
        }
    }

    @Test
    void memoisedObjectsAreShared() {
        JsonNode p = Fixtures.json("checkpoints/torch/pickles.json").get("2");
        Map<?, ?> value = (Map<?, ?>) unpickle(HexFormat.of().parseHex(p.get("pickle").asText()));
        List<?> shared = (List<?>) value.get("shared");
        assertTrue(shared.get(0) == shared.get(1), "the same list object twice, as in Python");
    }

    private static void refused(byte[] pickle, String expected) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> unpickle(pickle));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertTrue(e.getMessage().startsWith("test.bin: data.pkl: "), e.getMessage());
    }

    @Test
    void refusesEveryWayToReachCode() {
        refused(Pickles.proto2().global("os", "system").str("echo").op(0x85).op('R').op('.').bytes(),
                "refusing to load global 'os.system'");
        refused(Pickles.proto2().str("builtins").str("exec").op(0x93).op('.').bytes(),
                "refusing to load global 'builtins.exec'");
        refused(Pickles.proto2().global("torch", "load").op('.').bytes(), "refusing to load global 'torch.load'");
        refused(Pickles.proto2().global("torch._utils", "_rebuild_qtensor").op('.').bytes(),
                "refusing to load global 'torch._utils._rebuild_qtensor'");
        refused(Pickles.proto2().global("torch", "ComplexFloatStorage").op('.').bytes(),
                "storage type 'torch.ComplexFloatStorage' is not supported");
        // allowed names still cannot be called in ways they were not meant for
        refused(Pickles.proto2().global("torch", "FloatStorage").op(')').op('R').op('.').bytes(), "refusing to call torch.FloatStorage");
        refused(Pickles.proto2().global("collections", "OrderedDict").op(')').op(0x81).op('.').bytes(), "NEWOBJ");
        refused(Pickles.proto2().op('(').raw("i__main__\nX\n".getBytes()).op('.').bytes(), "INST/OBJ");
        refused(Pickles.proto2().op('(').op('o').op('.').bytes(), "INST/OBJ");
        refused(Pickles.proto2().op(0x82).op(1).op('.').bytes(), "EXT1/2/4");
        refused(Pickles.proto2().op(']').op('}').op('b').op('.').bytes(), "refusing to BUILD");
        refused(Pickles.proto2().op(']').op('Q').op('.').bytes(), "persistent id list is not");
        refused(Pickles.proto2().raw("P0\n".getBytes()).op('.').bytes(), "PERSID");
    }

    @Test
    void malformedPicklesGivePositionedErrors() {
        refused(new byte[] {(byte) 0x80, 2}, "ends without STOP");
        refused(Pickles.proto2().op('X').raw(new byte[] {100, 0, 0, 0}).op('.').bytes(), "runs past the end");
        refused(Pickles.proto2().op('.').bytes(), "STOP with an empty stack");
        refused(Pickles.proto2().op('t').op('.').bytes(), "no MARK");
        refused(Pickles.proto2().op('h').op(9).op('.').bytes(), "memo entry 9 was never stored");
        refused(Pickles.proto2().op('a').op('.').bytes(), "pop from an empty stack");
        refused(Pickles.proto2().op(0x80).op(9).op('.').bytes(), "protocol 9");
        refused(Pickles.proto2().op(0xff).op('.').bytes(), "unknown pickle opcode 0xff");
        refused(Pickles.proto2().op('}').op(']').op('J').raw(new byte[4]).op('s').op('.').bytes(), "dict key of type list");
        refused(Pickles.proto2().op('I').raw("12x\n".getBytes()).op('.').bytes(), "not an integer");
        refused(Pickles.proto2().op(0x8c).op(2).raw(new byte[] {(byte) 0xc3, 0x28}).op('.').bytes(), "not valid UTF-8");
    }

    @Test
    void cyclicContainersLoadButCannotHangTheFlattening() throws Exception {
        // l = []; l.append(l); {"x": l}
        byte[] pickle = Pickles.proto2().op('}').str("x").op(']').op('q').op(0).op('h').op(0).op('a').op('s').op('.').bytes();
        Map<?, ?> d = (Map<?, ?>) unpickle(pickle);
        List<?> l = (List<?>) d.get("x");
        assertTrue(l.get(0) == l);
        java.util.Map<String, byte[]> entries = Map.of("archive/data.pkl", pickle);
        Path file = java.nio.file.Files.createTempFile("cycle", ".bin");
        try {
            java.nio.file.Files.write(file, Zips.write(entries, java.util.Set.of()));
            CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(file));
            assertTrue(e.getMessage().contains("cycle"), e.getMessage());
        } finally {
            java.nio.file.Files.delete(file);
        }
    }
}

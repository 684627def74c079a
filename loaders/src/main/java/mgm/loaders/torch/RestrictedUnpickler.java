package mgm.loaders.torch;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mgm.loaders.CheckpointException;

/**
 * A pickle reader (protocols 0 to 5) that builds plain data only. It implements the opcodes for
 * Python's basic values and containers itself; every name a pickle imports ({@code GLOBAL},
 * {@code STACK_GLOBAL}), every call ({@code REDUCE}), every {@code BUILD} and every persistent id
 * goes to a {@link Policy}, which accepts the few a state dict needs and refuses the rest. Opcodes
 * that instantiate arbitrary classes ({@code NEWOBJ}, {@code INST}, {@code OBJ}, extension
 * registry) are refused outright. Nothing is ever executed or loaded.
 *
 * <p>Work is linear in the pickle's size; malformed input gives a {@link CheckpointException}
 * with the byte position.
 */
final class RestrictedUnpickler {
    /** Decides what the names, calls and persistent ids in a pickle may mean. */
    interface Policy {
        /** The value of {@code module.name}; must throw for anything not on the policy's list. */
        Object global(String module, String name);

        /** The result of calling {@code callable} (a value {@link #global} returned) with {@code args}. */
        Object reduce(Object callable, Py.Tuple args);

        /** Applies {@code state} to {@code target} (pickle's {@code BUILD}), or refuses. */
        void build(Object target, Object state);

        /** The object a persistent id stands for. */
        Object persistentLoad(Object pid);
    }

    /** Thrown by policies to refuse a name or call; becomes a CheckpointException with the position. */
    static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message, null, false, false);
        }
    }

    private static final int MAX_LINE = 1 << 16;

    private final byte[] b;
    private final Path file;
    private final String what;
    private final Policy policy;
    private int pos;
    private int opStart;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final HashMap<Long, Object> memo = new HashMap<>();

    RestrictedUnpickler(byte[] pickle, Path file, String what, Policy policy) {
        this.b = pickle;
        this.file = file;
        this.what = what;
        this.policy = policy;
    }

    /** Runs the pickle to its STOP and returns the value it built. */
    Object load() {
        while (true) {
            opStart = pos;
            int op = u8();
            try {
                if (step(op)) {
                    if (stack.isEmpty()) {
                        throw error("STOP with an empty stack");
                    }
                    return stack.removeLast();
                }
            } catch (Refused r) {
                throw error(r.getMessage());
            }
        }
    }

    /** Executes one opcode; true at STOP. */
    private boolean step(int op) {
        switch (op) {
            case 0x80 -> { // PROTO
                int proto = u8();
                if (proto > 5) {
                    throw error("pickle protocol " + proto + " is newer than 5");
                }
            }
            case 0x95 -> { // FRAME: a length prefix for buffering; the data follows inline
                long len = le(8);
                if (len < 0 || len > b.length - pos) {
                    throw error("frame of " + len + " bytes runs past the end");
                }
            }
            case '.' -> {
                return true;
            }
            case '(' -> marks.add(stack.size());
            case '0' -> pop();
            case '1' -> popMark();
            case '2' -> push(peek());
            // ---- numbers
            case 'I' -> push(parseIntLine(line()));
            case 'J' -> push((long) (int) le(4));
            case 'K' -> push((long) u8());
            case 'M' -> push(le(2));
            case 'L' -> {
                String s = line();
                push(parseBigInt(s.endsWith("L") ? s.substring(0, s.length() - 1) : s));
            }
            case 0x8a -> push(longFromBytes(bytes(u8())));
            case 0x8b -> push(longFromBytes(bytes(length(4))));
            case 'F' -> push(parseFloat(line()));
            case 'G' -> push(ByteBuffer.wrap(bytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble());
            // ---- strings and bytes
            case 'S' -> push(pythonStringLiteral(line()));
            case 'T' -> push(new String(bytes(length(4)), StandardCharsets.ISO_8859_1));
            case 'U' -> push(new String(bytes(u8()), StandardCharsets.ISO_8859_1));
            case 'V' -> push(rawUnicodeEscape(line()));
            case 'X' -> push(utf8(bytes(length(4))));
            case 0x8c -> push(utf8(bytes(u8())));
            case 0x8d -> push(utf8(bytes(length(8))));
            case 'B' -> push(bytes(length(4)));
            case 'C' -> push(bytes(u8()));
            case 0x8e, 0x96 -> push(bytes(length(8)));
            // ---- constants
            case 'N' -> push(null);
            case 0x88 -> push(Boolean.TRUE);
            case 0x89 -> push(Boolean.FALSE);
            // ---- tuples, lists, dicts, sets
            case ')' -> push(new Py.Tuple(List.of()));
            case 't' -> push(new Py.Tuple(popMark()));
            case 0x85 -> push(new Py.Tuple(popN(1)));
            case 0x86 -> push(new Py.Tuple(popN(2)));
            case 0x87 -> push(new Py.Tuple(popN(3)));
            case ']' -> push(new ArrayList<>());
            case 'l' -> push(new ArrayList<>(popMark()));
            case 'a' -> {
                Object v = pop();
                list(peek()).add(v);
            }
            case 'e' -> {
                List<Object> items = popMark();
                list(peek()).addAll(items);
            }
            case '}' -> push(new LinkedHashMap<>());
            case 'd' -> {
                Map<Object, Object> d = new LinkedHashMap<>();
                putAll(d, popMark());
                push(d);
            }
            case 's' -> {
                Object v = pop();
                Object k = pop();
                putAll(dict(peek()), Arrays.asList(k, v));
            }
            case 'u' -> {
                List<Object> items = popMark();
                putAll(dict(peek()), items);
            }
            case 0x8f -> push(new Py.Set(new ArrayList<>()));
            case 0x90 -> {
                List<Object> items = popMark();
                if (!(peek() instanceof Py.Set set)) {
                    throw error("ADDITEMS on a " + Py.typeName(peek()));
                }
                set.items().addAll(items);
            }
            case 0x91 -> push(new Py.Set(new ArrayList<>(popMark())));
            // ---- memo
            case 'p' -> memo.put(parseMemoIndex(line()), peek());
            case 'q' -> memo.put((long) u8(), peek());
            case 'r' -> memo.put(le(4), peek());
            case 0x94 -> memo.put((long) memo.size(), peek());
            case 'g' -> push(memoGet(parseMemoIndex(line())));
            case 'h' -> push(memoGet(u8()));
            case 'j' -> push(memoGet(le(4)));
            // ---- the gates: names, calls, state, persistent ids
            case 'c' -> {
                String module = line();
                String name = line();
                push(policy.global(module, name));
            }
            case 0x93 -> {
                Object name = pop();
                Object module = pop();
                if (!(module instanceof String m) || !(name instanceof String n)) {
                    throw error("STACK_GLOBAL needs two strings, got " + Py.typeName(module) + " and " + Py.typeName(name));
                }
                push(policy.global(m, n));
            }
            case 'R' -> {
                Object args = pop();
                Object callable = pop();
                if (!(args instanceof Py.Tuple t)) {
                    throw error("REDUCE arguments are a " + Py.typeName(args) + ", not a tuple");
                }
                push(policy.reduce(callable, t));
            }
            case 'b' -> {
                Object state = pop();
                policy.build(peek(), state);
            }
            case 'Q' -> push(policy.persistentLoad(pop()));
            case 'P' -> throw error("text persistent ids (PERSID) are not used by PyTorch and are refused");
            case 0x81, 0x92 -> throw error("NEWOBJ creates instances of arbitrary classes and is refused");
            case 'i', 'o' -> throw error("INST/OBJ create instances of arbitrary classes and are refused");
            case 0x82, 0x83, 0x84 -> throw error("extension-registry globals (EXT1/2/4) are refused");
            case 0x97, 0x98 -> throw error("out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER) are refused");
            default -> throw error(String.format("unknown pickle opcode 0x%02x", op));
        }
        return false;
    }

    // ------------------------------------------------------------------ stack

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() {
        int floor = marks.isEmpty() ? 0 : marks.getLast();
        if (stack.size() <= floor) {
            throw error("pop from an empty stack");
        }
        return stack.removeLast();
    }

    private Object peek() {
        int floor = marks.isEmpty() ? 0 : marks.getLast();
        if (stack.size() <= floor) {
            throw error("stack is empty");
        }
        return stack.getLast();
    }

    private List<Object> popN(int n) {
        int floor = marks.isEmpty() ? 0 : marks.getLast();
        if (stack.size() - floor < n) {
            throw error("stack holds fewer than " + n + " items");
        }
        List<Object> sub = stack.subList(stack.size() - n, stack.size());
        List<Object> out = new ArrayList<>(sub);
        sub.clear();
        return out;
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw error("no MARK on the stack");
        }
        int m = marks.removeLast();
        List<Object> sub = stack.subList(m, stack.size());
        List<Object> out = new ArrayList<>(sub);
        sub.clear();
        return out;
    }

    private Object memoGet(long index) {
        if (!memo.containsKey(index)) {
            throw error("memo entry " + index + " was never stored");
        }
        return memo.get(index);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw error("APPEND to a " + Py.typeName(o) + ", not a list");
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) {
        if (o instanceof LinkedHashMap<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw error("SETITEM on a " + Py.typeName(o) + ", not a dict");
    }

    private void putAll(Map<Object, Object> d, List<Object> kv) {
        if (kv.size() % 2 != 0) {
            throw error("odd number of items for a dict");
        }
        for (int i = 0; i < kv.size(); i += 2) {
            Object k = kv.get(i);
            if (!Py.isHashable(k)) {
                throw error("dict key of type " + Py.typeName(k) + " is not supported");
            }
            d.put(k, kv.get(i + 1));
        }
    }

    // ------------------------------------------------------------------ reading

    private int u8() {
        if (pos >= b.length) {
            throw error("pickle ends without STOP (truncated)");
        }
        return b[pos++] & 0xFF;
    }

    /** A little-endian unsigned integer of {@code n} bytes (n <= 8; 8 bytes may come out negative). */
    private long le(int n) {
        if (b.length - pos < n) {
            throw error("pickle ends inside an argument (truncated)");
        }
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (b[pos + i] & 0xFF);
        }
        pos += n;
        return v;
    }

    /** A length prefix that must fit in what is left of the pickle. */
    private int length(int n) {
        long len = n == 4 ? (int) le(4) : le(n);
        if (len < 0 || len > b.length - pos) {
            throw error("length " + len + " runs past the end of the pickle");
        }
        return (int) len;
    }

    private byte[] bytes(int n) {
        if (n > b.length - pos) {
            throw error("pickle ends inside a " + n + "-byte value (truncated)");
        }
        byte[] out = Arrays.copyOfRange(b, pos, pos + n);
        pos += n;
        return out;
    }

    /** A newline-terminated ASCII argument, without the newline. */
    private String line() {
        int end = pos;
        int limit = (int) Math.min(b.length, (long) pos + MAX_LINE);
        while (end < limit && b[end] != '\n') {
            end++;
        }
        if (end >= limit) {
            throw error("text argument without a newline");
        }
        String s = new String(b, pos, end - pos, StandardCharsets.ISO_8859_1);
        pos = end + 1;
        return s;
    }

    private String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw error("string is not valid UTF-8");
        }
    }

    private Object parseIntLine(String s) {
        if (s.equals("01")) {
            return Boolean.TRUE;
        }
        if (s.equals("00")) {
            return Boolean.FALSE;
        }
        return parseBigInt(s);
    }

    private Object parseBigInt(String s) {
        if (s.isEmpty() || s.length() > 4300 || !s.matches("[+-]?[0-9]+")) {
            throw error("'" + clip(s) + "' is not an integer");
        }
        return normalise(new BigInteger(s));
    }

    private long parseMemoIndex(String s) {
        if (!s.matches("[0-9]{1,18}")) {
            throw error("'" + clip(s) + "' is not a memo index");
        }
        return Long.parseLong(s);
    }

    private Object parseFloat(String s) {
        String t = s.trim();
        switch (t) {
            case "inf", "+inf" -> {
                return Double.POSITIVE_INFINITY;
            }
            case "-inf" -> {
                return Double.NEGATIVE_INFINITY;
            }
            case "nan", "-nan", "+nan" -> {
                return Double.NaN;
            }
            default -> {
                if (!t.matches("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?")) {
                    throw error("'" + clip(s) + "' is not a float");
                }
                return Double.parseDouble(t);
            }
        }
    }

    /** Two's-complement little-endian bytes (LONG1/LONG4). */
    private static Object longFromBytes(byte[] le) {
        if (le.length == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        return normalise(new BigInteger(be));
    }

    private static Object normalise(BigInteger v) {
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    /** The protocol-0 STRING argument: a quoted Python literal with backslash escapes. */
    private String pythonStringLiteral(String s) {
        if (s.length() < 2 || s.charAt(0) != s.charAt(s.length() - 1) || (s.charAt(0) != '\'' && s.charAt(0) != '"')) {
            throw error("STRING argument is not quoted");
        }
        String body = s.substring(1, s.length() - 1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (++i >= body.length()) {
                throw error("STRING argument ends in a backslash");
            }
            char e = body.charAt(i);
            switch (e) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case '\\', '\'', '"' -> out.append(e);
                case 'x' -> {
                    out.append((char) hex(body, i + 1, 2));
                    i += 2;
                }
                default -> out.append('\\').append(e);
            }
        }
        return out.toString();
    }

    /** The protocol-0 UNICODE argument: raw-unicode-escape (only \\uXXXX and \\UXXXXXXXX are escapes). */
    private String rawUnicodeEscape(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == 'u' || s.charAt(i + 1) == 'U')) {
                int digits = s.charAt(i + 1) == 'u' ? 4 : 8;
                int cp = hex(s, i + 2, digits);
                if (!Character.isValidCodePoint(cp)) {
                    throw error("invalid code point in UNICODE argument");
                }
                out.appendCodePoint(cp);
                i += 1 + digits;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private int hex(String s, int from, int digits) {
        if (from + digits > s.length()) {
            throw error("short hex escape");
        }
        long v = 0;
        for (int i = from; i < from + digits; i++) {
            int d = Character.digit(s.charAt(i), 16);
            if (d < 0) {
                throw error("bad hex digit in escape");
            }
            v = v * 16 + d;
        }
        return v > Integer.MAX_VALUE ? -1 : (int) v;
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    private CheckpointException error(String problem) {
        return new CheckpointException(file, what + ": " + problem + " (pickle byte " + opStart + ")");
    }
}

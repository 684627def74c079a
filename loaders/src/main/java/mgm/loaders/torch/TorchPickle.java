package mgm.loaders.torch;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a PyTorch state-dict pickle may contain, as a {@link RestrictedUnpickler.Policy}: the
 * containers, {@code collections.OrderedDict}, tensor and parameter rebuild functions, the
 * storage classes (only inside persistent ids), {@code torch.Size} and dtype names. Any other
 * global is refused by name before anything else happens.
 */
final class TorchPickle implements RestrictedUnpickler.Policy {
    /** A storage of the archive ({@code <root>/data/<key>}) holding {@code numel} elements of its type. */
    record StorageRef(String key, StorageType type, long numel, ZipArchive.Entry entry) {}

    /** A tensor as {@code _rebuild_tensor_v2} describes it: a strided view of a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

    private static final Set<String> CALLABLES = Set.of(
            "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
            "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
            "torch._tensor._rebuild_from_type_v2", "torch.Size", "_codecs.encode", "builtins.bytes", "__builtin__.bytes");
    private static final Set<String> TENSOR_TYPES = Set.of("torch.Tensor", "torch.nn.parameter.Parameter");
    private static final Set<String> DTYPE_NAMES = Set.of("float32", "float", "float16", "half", "bfloat16",
            "float64", "double", "int64", "long", "int32", "int", "int16", "short", "int8", "uint8", "bool");

    private final String root;
    private final Map<String, ZipArchive.Entry> entries;
    private final Map<String, StorageRef> storages = new HashMap<>();

    TorchPickle(String root, Map<String, ZipArchive.Entry> entries) {
        this.root = root;
        this.entries = entries;
    }

    @Override
    public Object global(String module, String name) {
        String full = module + "." + name;
        if (CALLABLES.contains(full) || TENSOR_TYPES.contains(full) || StorageType.of(module, name) != null
                || (module.equals("torch") && DTYPE_NAMES.contains(name))) {
            return new Py.Global(module, name);
        }
        if (module.equals("torch") && name.endsWith("Storage")) {
            throw new RestrictedUnpickler.Refused("storage type '" + full + "' is not supported (supported: "
                    + java.util.Arrays.stream(StorageType.values()).map(t -> "torch." + t.className).toList() + ")");
        }
        throw new RestrictedUnpickler.Refused("refusing to load global '" + full
                + "': only PyTorch state-dict types are allowed (this file may contain code)");
    }

    @Override
    public Object reduce(Object callable, Py.Tuple args) {
        if (!(callable instanceof Py.Global g) || !CALLABLES.contains(g.toString())) {
            throw new RestrictedUnpickler.Refused("refusing to call " + Py.typeName(callable));
        }
        return switch (g.toString()) {
            case "collections.OrderedDict" -> orderedDict(args);
            case "torch._utils._rebuild_tensor_v2" -> {
                arity(g, args, 6, 7);
                yield tensor(args);
            }
            case "torch._utils._rebuild_tensor" -> {
                arity(g, args, 4, 4);
                yield tensor(args);
            }
            case "torch._utils._rebuild_parameter" -> {
                arity(g, args, 3, 3);
                yield asTensor(args.get(0), g);
            }
            case "torch._utils._rebuild_parameter_with_state" -> {
                arity(g, args, 4, 4);
                yield asTensor(args.get(0), g);
            }
            case "torch._tensor._rebuild_from_type_v2" -> fromType(g, args);
            case "torch.Size" -> {
                arity(g, args, 1, 1);
                yield ints(args.get(0), "torch.Size");
            }
            case "_codecs.encode" -> {
                arity(g, args, 2, 2);
                if (!(args.get(0) instanceof String s) || !(args.get(1) instanceof String enc)
                        || !(enc.equals("latin1") || enc.equals("latin-1"))) {
                    throw new RestrictedUnpickler.Refused("_codecs.encode is only accepted as (str, 'latin1')");
                }
                byte[] out = s.getBytes(StandardCharsets.ISO_8859_1);
                if (!new String(out, StandardCharsets.ISO_8859_1).equals(s)) {
                    throw new RestrictedUnpickler.Refused("_codecs.encode: text is not latin-1");
                }
                yield out;
            }
            case "builtins.bytes", "__builtin__.bytes" -> {
                // protocols 0-2 write b"" as bytes(); any argument (a size, an iterable) is refused
                arity(g, args, 0, 0);
                yield new byte[0];
            }
            default -> throw new AssertionError(g);
        };
    }

    @Override
    public void build(Object target, Object state) {
        // OrderedDict subclasses carry attributes (state_dict()'s "_metadata"); we keep only the items.
        if (target instanceof LinkedHashMap<?, ?> && (state == null || state instanceof Map<?, ?>)) {
            return;
        }
        throw new RestrictedUnpickler.Refused("refusing to BUILD (set the state of) a " + Py.typeName(target));
    }

    @Override
    public Object persistentLoad(Object pid) {
        if (!(pid instanceof Py.Tuple t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw new RestrictedUnpickler.Refused("persistent id " + Py.typeName(pid)
                    + " is not ('storage', type, key, location, numel)");
        }
        if (!(t.get(1) instanceof Py.Global g) || StorageType.of(g.module(), g.name()) == null) {
            throw new RestrictedUnpickler.Refused("persistent id names storage type " + Py.typeName(t.get(1))
                    + ", not a torch storage class");
        }
        StorageType type = StorageType.of(g.module(), g.name());
        if (!(t.get(2) instanceof String key) || key.isEmpty() || key.contains("/") || key.contains("\\") || key.contains("..")) {
            throw new RestrictedUnpickler.Refused("persistent id has an invalid storage key " + Py.typeName(t.get(2)));
        }
        if (!(t.get(3) instanceof String)) {
            throw new RestrictedUnpickler.Refused("persistent id location is a " + Py.typeName(t.get(3)) + ", not a str");
        }
        if (!(t.get(4) instanceof Long numel) || numel < 0) {
            throw new RestrictedUnpickler.Refused("persistent id numel is not a non-negative int");
        }
        StorageRef seen = storages.get(key);
        if (seen != null) {
            if (seen.type() != type || seen.numel() != numel) {
                throw new RestrictedUnpickler.Refused("storage '" + key + "' is used as both " + seen.type().className
                        + "[" + seen.numel() + "] and " + type.className + "[" + numel + "]");
            }
            return seen;
        }
        String name = root + "data/" + key;
        ZipArchive.Entry e = entries.get(name);
        if (e == null) {
            throw new RestrictedUnpickler.Refused("storage '" + key + "' has no archive entry '" + name + "'");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(numel, (long) type.dtype.blockBytes());
        } catch (ArithmeticException ex) {
            throw new RestrictedUnpickler.Refused("storage '" + key + "' numel " + numel + " is too large");
        }
        if (bytes != e.size()) {
            throw new RestrictedUnpickler.Refused("storage '" + key + "' should hold " + numel + " x "
                    + type.dtype.blockBytes() + " bytes, but its entry has " + e.size());
        }
        StorageRef ref = new StorageRef(key, type, numel, e);
        storages.put(key, ref);
        return ref;
    }

    // ------------------------------------------------------------------ helpers

    private static Object orderedDict(Py.Tuple args) {
        Map<Object, Object> d = new LinkedHashMap<>();
        if (args.size() == 0) {
            return d;
        }
        if (args.size() != 1 || !(args.get(0) instanceof List<?> pairs)) {
            throw new RestrictedUnpickler.Refused("collections.OrderedDict accepts () or a list of pairs");
        }
        for (Object p : pairs) {
            List<Object> kv = p instanceof Py.Tuple tp ? tp.items() : p instanceof List<?> l ? List.copyOf(l) : null;
            if (kv == null || kv.size() != 2 || !Py.isHashable(kv.get(0))) {
                throw new RestrictedUnpickler.Refused("collections.OrderedDict item is not a (key, value) pair");
            }
            d.put(kv.get(0), kv.get(1));
        }
        return d;
    }

    private TensorRef tensor(Py.Tuple args) {
        if (!(args.get(0) instanceof StorageRef storage)) {
            throw new RestrictedUnpickler.Refused("tensor storage is a " + Py.typeName(args.get(0))
                    + ", not a persistent storage");
        }
        if (!(args.get(1) instanceof Long offset) || offset < 0) {
            throw new RestrictedUnpickler.Refused("tensor storage offset is not a non-negative int");
        }
        long[] size = ints(args.get(2), "tensor size");
        long[] stride = ints(args.get(3), "tensor stride");
        if (size.length != stride.length) {
            throw new RestrictedUnpickler.Refused("tensor size has " + size.length + " dims but stride " + stride.length);
        }
        return new TensorRef(storage, offset, size, stride);
    }

    private Object fromType(Py.Global g, Py.Tuple args) {
        arity(g, args, 4, 4);
        if (!(args.get(1) instanceof Py.Global type) || !TENSOR_TYPES.contains(type.toString())) {
            throw new RestrictedUnpickler.Refused("refusing to rebuild a tensor of type " + Py.typeName(args.get(1)));
        }
        if (!(args.get(2) instanceof Py.Tuple inner)) {
            throw new RestrictedUnpickler.Refused("_rebuild_from_type_v2 arguments are not a tuple");
        }
        Object func = args.get(0);
        if (!(func instanceof Py.Global f) || !f.module().equals("torch._utils") || !f.name().startsWith("_rebuild_")) {
            throw new RestrictedUnpickler.Refused("_rebuild_from_type_v2 calls " + Py.typeName(func));
        }
        return asTensor(reduce(func, inner), g);
    }

    private static Object asTensor(Object o, Py.Global by) {
        if (!(o instanceof TensorRef)) {
            throw new RestrictedUnpickler.Refused(by + " expects a tensor, got " + Py.typeName(o));
        }
        return o;
    }

    private static void arity(Py.Global g, Py.Tuple args, int min, int max) {
        if (args.size() < min || args.size() > max) {
            throw new RestrictedUnpickler.Refused(g + " takes " + (min == max ? "" + min : min + " or " + max)
                    + " arguments, not " + args.size());
        }
    }

    private static long[] ints(Object o, String what) {
        List<Object> items = o instanceof Py.Tuple t ? t.items() : null;
        if (items == null || items.size() > 64) {
            throw new RestrictedUnpickler.Refused(what + " is a " + Py.typeName(o) + ", not a tuple of ints");
        }
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(items.get(i) instanceof Long v) || v < 0) {
                throw new RestrictedUnpickler.Refused(what + " holds a " + Py.typeName(items.get(i)) + ", not a non-negative int");
            }
            out[i] = v;
        }
        return out;
    }

    /** Storages named so far, by key. */
    Map<String, StorageRef> storages() {
        return storages;
    }
}

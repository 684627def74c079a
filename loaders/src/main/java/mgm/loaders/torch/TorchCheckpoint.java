package mgm.loaders.torch;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mgm.loaders.Checkpoint;
import mgm.loaders.CheckpointException;
import mgm.loaders.NameSuggestions;
import mgm.loaders.TensorInfo;
import mgm.runtime.Storage;
import mgm.runtime.Tensor;

/**
 * A PyTorch checkpoint as {@code torch.save} writes it since 1.6: a zip with
 * {@code <root>/data.pkl} (the pickled object), {@code <root>/data/<key>} (one entry per storage)
 * and {@code <root>/version}. The pickle is read by a {@link RestrictedUnpickler} that only builds
 * state-dict data; tensors of nested dicts and lists are named by their path joined with dots
 * ({@code {"model": {"w": t}}} gives {@code model.w}). Storages are slices of the memory-mapped
 * file (torch stores them uncompressed); compressed ones are inflated once, within {@link ZipLimits}.
 */
public final class TorchCheckpoint implements Checkpoint {
    private static final int MAX_DEPTH = 32;
    private static final long MAX_NODES = 10_000_000;

    private final Path file;
    private final Arena arena;
    private final ZipArchive zip;
    private final Map<String, TorchPickle.TensorRef> tensors;
    private final List<String> names;
    private final Map<String, Storage> storages = new HashMap<>();

    private TorchCheckpoint(Path file, Arena arena, ZipArchive zip, Map<String, TorchPickle.TensorRef> tensors) {
        this.file = file;
        this.arena = arena;
        this.zip = zip;
        this.tensors = tensors;
        this.names = List.copyOf(tensors.keySet());
    }

    public static TorchCheckpoint open(Path file) {
        return open(file, ZipLimits.DEFAULT);
    }

    /** Opens, maps and validates {@code file}: the archive layout, the pickle, every tensor's bounds. */
    public static TorchCheckpoint open(Path file, ZipLimits limits) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment all;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
            checkMagic(file, all);
            ZipArchive zip = ZipArchive.read(file, all, limits);
            String root = root(file, zip);
            checkByteOrder(file, zip, root);
            checkVersion(file, zip, root);
            byte[] pickle = zip.readSmall(zip.entries().get(root + "data.pkl"), limits.maxPickleBytes(), "pickle");
            TorchPickle policy = new TorchPickle(root, zip.entries());
            Object top = new RestrictedUnpickler(pickle, file, root + "data.pkl", policy).load();
            Map<String, TorchPickle.TensorRef> tensors = new LinkedHashMap<>();
            flatten(file, top, "", 0, tensors, new IdentityHashMap<>(), new long[1]);
            for (Map.Entry<String, TorchPickle.TensorRef> e : tensors.entrySet()) {
                checkBounds(file, e.getKey(), e.getValue());
            }
            return new TorchCheckpoint(file, arena, zip, tensors);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new CheckpointException(file, "no such file");
        } catch (IOException e) {
            arena.close();
            throw new CheckpointException(file, "cannot read: " + e, e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public Path path() {
        return file;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TorchPickle.TensorRef t = ref(name);
        return new TensorInfo(name, t.storage().type().dtype, t.size(), file);
    }

    @Override
    public Tensor tensor(String name) {
        TorchPickle.TensorRef t = ref(name);
        Storage storage = storage(t.storage(), name);
        Tensor flat = Tensor.wrap(storage, 0, t.storage().type().dtype, false, t.storage().numel());
        return flat.asStrided(t.size(), t.stride(), t.offset());
    }

    /** PyTorch checkpoints carry no string metadata. */
    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
        storages.clear();
    }

    private TorchPickle.TensorRef ref(String name) {
        TorchPickle.TensorRef t = tensors.get(name);
        if (t == null) {
            throw NameSuggestions.missingTensor(file, name, names);
        }
        return t;
    }

    /** The storage's bytes: a slice of the mapping when stored, inflated once when compressed. */
    private synchronized Storage storage(TorchPickle.StorageRef ref, String tensor) {
        if (!arena.scope().isAlive()) {
            throw new CheckpointException(file, "tensor '" + tensor + "' requested after the checkpoint was closed");
        }
        Storage s = storages.get(ref.key());
        if (s == null) {
            ZipArchive.Entry e = ref.entry();
            MemorySegment seg = e.method() == ZipArchive.STORED ? zip.stored(e) : zip.inflateTo(e, arena);
            s = Storage.wrapHost(seg);
            storages.put(ref.key(), s);
        }
        return s;
    }

    // ------------------------------------------------------------------ opening

    private static void checkMagic(Path file, MemorySegment all) {
        if (all.byteSize() >= 4 && all.get(ValueLayout.JAVA_INT_UNALIGNED, 0) == 0x04034b50) {
            return;
        }
        if (all.byteSize() >= 2 && (all.get(ValueLayout.JAVA_BYTE, 0) & 0xFF) == 0x80) {
            throw new CheckpointException(file, "legacy PyTorch format (torch.save before 1.6, a bare pickle) is not "
                    + "supported: re-save it with a current torch.save or convert it to safetensors");
        }
        throw new CheckpointException(file, "not a PyTorch checkpoint (no zip signature)");
    }

    /** The archive's top folder: the one holding data.pkl (torch names it after the file, or "archive"). */
    private static String root(Path file, ZipArchive zip) {
        String root = null;
        for (String name : zip.entries().keySet()) {
            int slash = name.indexOf('/');
            if (name.endsWith("/data.pkl") && slash == name.length() - "/data.pkl".length()) {
                if (root != null) {
                    throw new CheckpointException(file, "archive holds more than one data.pkl");
                }
                root = name.substring(0, slash + 1);
            }
        }
        if (root == null) {
            throw new CheckpointException(file, "archive has no <folder>/data.pkl: not a torch.save checkpoint"
                    + (zip.entries().containsKey("constants.pkl") ? " (TorchScript archives are not supported)" : ""));
        }
        return root;
    }

    private static void checkByteOrder(Path file, ZipArchive zip, String root) {
        ZipArchive.Entry e = zip.entries().get(root + "byteorder");
        if (e == null) {
            return; // written by torch >= 2.1 only; older files are little-endian
        }
        String order = new String(zip.readSmall(e, 64, "byteorder"), StandardCharsets.US_ASCII).trim();
        if (order.equals("big")) {
            throw new CheckpointException(file, "big-endian checkpoints are not supported");
        }
        if (!order.equals("little")) {
            throw new CheckpointException(file, "unknown byteorder '" + order + "'");
        }
    }

    private static void checkVersion(Path file, ZipArchive zip, String root) {
        ZipArchive.Entry e = zip.entries().get(root + "version");
        if (e == null) {
            return;
        }
        String v = new String(zip.readSmall(e, 64, "version"), StandardCharsets.US_ASCII).trim();
        if (!v.matches("[0-9]{1,3}")) {
            throw new CheckpointException(file, "version record '" + v + "' is not a number");
        }
    }

    /** Collects every tensor under {@code node}, named by its path. */
    private static void flatten(Path file, Object node, String prefix, int depth, Map<String, TorchPickle.TensorRef> out,
                                IdentityHashMap<Object, Boolean> path, long[] visited) {
        if (++visited[0] > MAX_NODES) {
            throw new CheckpointException(file, "pickle holds more than " + MAX_NODES + " values");
        }
        if (node instanceof TorchPickle.TensorRef t) {
            if (out.putIfAbsent(prefix, t) != null) {
                throw new CheckpointException(file, "two tensors are both named '" + prefix + "'");
            }
            return;
        }
        List<Map.Entry<String, Object>> children = children(node);
        if (children.isEmpty()) {
            return;
        }
        if (depth >= MAX_DEPTH || path.containsKey(node)) {
            throw new CheckpointException(file, "pickle nests containers deeper than " + MAX_DEPTH
                    + " levels or in a cycle at '" + prefix + "'");
        }
        path.put(node, Boolean.TRUE);
        for (Map.Entry<String, Object> c : children) {
            flatten(file, c.getValue(), prefix.isEmpty() ? c.getKey() : prefix + "." + c.getKey(), depth + 1, out, path, visited);
        }
        path.remove(node);
    }

    private static List<Map.Entry<String, Object>> children(Object node) {
        List<Map.Entry<String, Object>> out = new ArrayList<>();
        if (node instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.add(Map.entry(keyName(e.getKey()), nullSafe(e.getValue())));
            }
        } else if (node instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                out.add(Map.entry(Integer.toString(i), nullSafe(l.get(i))));
            }
        } else if (node instanceof Py.Tuple t) {
            for (int i = 0; i < t.size(); i++) {
                out.add(Map.entry(Integer.toString(i), nullSafe(t.get(i))));
            }
        }
        return out;
    }

    private static final Object NONE = new Object();

    private static Object nullSafe(Object o) {
        return o == null ? NONE : o;
    }

    private static String keyName(Object k) {
        if (k instanceof String s) {
            return s;
        }
        if (k instanceof Py.Tuple) {
            return "(tuple)";
        }
        return String.valueOf(k);
    }

    /** Every element a tensor can reach must lie inside its storage. */
    private static void checkBounds(Path file, String name, TorchPickle.TensorRef t) {
        long last = t.offset();
        boolean empty = false;
        try {
            for (int d = 0; d < t.size().length; d++) {
                empty |= t.size()[d] == 0;
                if (t.size()[d] > 0) {
                    last = Math.addExact(last, Math.multiplyExact(t.size()[d] - 1, t.stride()[d]));
                }
            }
            long n = 1;
            for (long s : t.size()) {
                n = Math.multiplyExact(n, s);
            }
        } catch (ArithmeticException e) {
            throw new CheckpointException(file, "tensor '" + name + "' size " + Arrays.toString(t.size()) + " is too large");
        }
        long numel = t.storage().numel();
        if (t.offset() > numel || (!empty && last >= numel)) {
            throw new CheckpointException(file, "tensor '" + name + "' " + Arrays.toString(t.size()) + " strides "
                    + Arrays.toString(t.stride()) + " offset " + t.offset() + " reaches outside its storage '"
                    + t.storage().key() + "' of " + numel + " elements");
        }
    }
}

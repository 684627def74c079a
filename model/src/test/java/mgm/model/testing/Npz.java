package mgm.model.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/** Reads a NumPy {@code .npz} archive ({@code np.savez} / {@code np.savez_compressed}): named {@link Npy} arrays. */
public final class Npz {
    private final Map<String, Npy> arrays;
    private final String name;

    private Npz(String name, Map<String, Npy> arrays) {
        this.name = name;
        this.arrays = arrays;
    }

    public static Npz read(Path file) {
        Map<String, Npy> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                String n = entry.getName();
                if (!n.endsWith(".npy")) {
                    continue;
                }
                byte[] bytes = zip.getInputStream(entry).readAllBytes();
                out.put(n.substring(0, n.length() - 4), Npy.parse(bytes, file + ":" + n));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e, e);
        }
        return new Npz(file.toString(), out);
    }

    public boolean has(String array) {
        return arrays.containsKey(array);
    }

    public Npy get(String array) {
        Npy a = arrays.get(array);
        if (a == null) {
            throw new IllegalArgumentException(name + " has no array '" + array + "' (it has " + arrays.keySet() + ")");
        }
        return a;
    }

    /** A 0-d or 1-element array's value. */
    public double scalar(String array) {
        return get(array).data()[0];
    }
}

package mgm.model.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads NumPy {@code .npy} files (format 1.0/2.0/3.0) of little-endian float32, float64 or int64
 * arrays in C order, as fixtures written by {@code np.save} are.
 *
 * @param shape the array's shape
 * @param data  its values in row-major order, as float
 */
public record Npy(long[] shape, float[] data) {
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    public static Npy read(Path file) {
        try {
            return parse(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e, e);
        }
    }

    public static Npy parse(byte[] bytes, String name) {
        if (bytes.length < 10 || bytes[0] != (byte) 0x93 || !new String(bytes, 1, 5, StandardCharsets.ISO_8859_1).equals("NUMPY")) {
            throw new IllegalArgumentException(name + " is not a .npy file");
        }
        int major = bytes[6];
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = major == 1 ? Short.toUnsignedInt(b.getShort(8)) : b.getInt(8);
        int start = major == 1 ? 10 : 12;
        String header = new String(bytes, start, headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, name);
        if (group(ORDER, header, name).equals("True")) {
            throw new IllegalArgumentException(name + ": Fortran-order arrays are not supported");
        }
        long[] shape = Arrays.stream(group(SHAPE, header, name).split(","))
                .map(String::strip).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        int offset = start + headerLen;
        float[] data = new float[Math.toIntExact(n)];
        switch (descr) {
            case "<f4" -> {
                for (int i = 0; i < n; i++) {
                    data[i] = b.getFloat(offset + 4 * i);
                }
            }
            case "<f8" -> {
                for (int i = 0; i < n; i++) {
                    data[i] = (float) b.getDouble(offset + 8 * i);
                }
            }
            case "<i8" -> {
                for (int i = 0; i < n; i++) {
                    data[i] = b.getLong(offset + 8 * i);
                }
            }
            default -> throw new IllegalArgumentException(name + ": dtype " + descr + " is not supported (<f4, <f8, <i8)");
        }
        return new Npy(shape, data);
    }

    /** Row {@code r} of a 2-D array. */
    public float[] row(int r) {
        int cols = (int) shape[shape.length - 1];
        return Arrays.copyOfRange(data, r * cols, (r + 1) * cols);
    }

    public int rows() {
        return (int) shape[0];
    }

    private static String group(Pattern p, String header, String name) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IllegalArgumentException(name + ": malformed .npy header " + header);
        }
        return m.group(1);
    }
}

package mgm.loaders.image;

/**
 * Bounds-checked reads of a file's leading bytes for header parsing: running past the end gives an
 * {@link ImageException} ("the header is truncated"), never an array index exception.
 */
final class HeaderBytes {
    private final byte[] data;
    private final String source;
    private final String format;

    HeaderBytes(byte[] data, String source, String format) {
        this.data = data;
        this.source = source;
        this.format = format;
    }

    int length() {
        return data.length;
    }

    String source() {
        return source;
    }

    boolean has(long pos, long count) {
        return pos >= 0 && count >= 0 && pos + count <= data.length;
    }

    int u8(long pos) throws ImageException {
        need(pos, 1);
        return data[(int) pos] & 0xFF;
    }

    int u16be(long pos) throws ImageException {
        need(pos, 2);
        return (u8(pos) << 8) | u8(pos + 1);
    }

    int u16le(long pos) throws ImageException {
        need(pos, 2);
        return u8(pos) | (u8(pos + 1) << 8);
    }

    int u24le(long pos) throws ImageException {
        need(pos, 3);
        return u8(pos) | (u8(pos + 1) << 8) | (u8(pos + 2) << 16);
    }

    long u32be(long pos) throws ImageException {
        need(pos, 4);
        return ((long) u16be(pos) << 16) | u16be(pos + 2);
    }

    long u32le(long pos) throws ImageException {
        need(pos, 4);
        return u16le(pos) | ((long) u16le(pos + 2) << 16);
    }

    /** Signed little-endian 32-bit. */
    int s32le(long pos) throws ImageException {
        return (int) u32le(pos);
    }

    boolean matches(long pos, String ascii) {
        if (!has(pos, ascii.length())) {
            return false;
        }
        for (int i = 0; i < ascii.length(); i++) {
            if ((data[(int) pos + i] & 0xFF) != ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** A copy of {@code count} bytes at {@code pos}. */
    byte[] slice(long pos, int count) throws ImageException {
        need(pos, count);
        byte[] out = new byte[count];
        System.arraycopy(data, (int) pos, out, 0, count);
        return out;
    }

    ImageException error(String problem) {
        return new ImageException(source, "invalid " + format + " file: " + problem);
    }

    private void need(long pos, long count) throws ImageException {
        if (!has(pos, count)) {
            throw new ImageException(source, "invalid " + format + " file: the header is truncated (needs bytes up to "
                    + (pos + count) + ", the file has " + data.length + ")");
        }
    }
}

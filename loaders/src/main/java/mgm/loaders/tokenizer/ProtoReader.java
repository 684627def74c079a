package mgm.loaders.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * A minimal protobuf wire-format reader (varint, 64-bit, length-delimited, 32-bit) over a byte
 * array, strict about bounds so a corrupt file gives a clear error instead of garbage.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int I64 = 1;
    static final int LEN = 2;
    static final int I32 = 5;

    private final byte[] buf;
    private int pos;
    private final int end;

    ProtoReader(byte[] buf, int from, int to) {
        this.buf = buf;
        this.pos = from;
        this.end = to;
    }

    boolean hasMore() {
        return pos < end;
    }

    int position() {
        return pos;
    }

    /** Reads a tag; returns field number << 3 | wire type. */
    int readTag() {
        long t = readVarint();
        if (t <= 0 || t > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("bad field tag " + t + " at byte " + pos);
        }
        int wire = (int) (t & 7);
        if (wire != VARINT && wire != I64 && wire != LEN && wire != I32) {
            throw new IllegalArgumentException("unsupported wire type " + wire + " at byte " + pos);
        }
        return (int) t;
    }

    long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw new IllegalArgumentException("truncated varint at byte " + pos);
            }
            int b = buf[pos++] & 0xFF;
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new IllegalArgumentException("varint longer than 10 bytes at byte " + pos);
    }

    int readFixed32() {
        if (end - pos < 4) {
            throw new IllegalArgumentException("truncated 32-bit field at byte " + pos);
        }
        int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    /** Returns [start, end) of a length-delimited field and skips it. */
    int[] readLengthDelimited() {
        long len = readVarint();
        if (len < 0 || len > end - pos) {
            throw new IllegalArgumentException("field length " + len + " at byte " + pos + " runs past the end ("
                    + (end - pos) + " bytes left)");
        }
        int s = pos;
        pos += (int) len;
        return new int[] {s, pos};
    }

    String readString() {
        int[] r = readLengthDelimited();
        return new String(buf, r[0], r[1] - r[0], StandardCharsets.UTF_8);
    }

    byte[] readBytes() {
        int[] r = readLengthDelimited();
        return java.util.Arrays.copyOfRange(buf, r[0], r[1]);
    }

    ProtoReader readMessage() {
        int[] r = readLengthDelimited();
        return new ProtoReader(buf, r[0], r[1]);
    }

    void skip(int wireType) {
        switch (wireType) {
            case VARINT -> readVarint();
            case I64 -> {
                if (end - pos < 8) {
                    throw new IllegalArgumentException("truncated 64-bit field at byte " + pos);
                }
                pos += 8;
            }
            case LEN -> readLengthDelimited();
            case I32 -> readFixed32();
            default -> throw new IllegalArgumentException("unsupported wire type " + wireType);
        }
    }
}

package mgm.loaders.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible byte to printable-character map (byte-level BPE): bytes that are printable
 * Latin-1 map to themselves, the other 68 to U+0100 onwards in byte order.
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {}

    /** The mapped form of the UTF-8 bytes of {@code s}. */
    static String encode(String s) {
        int n = s.length();
        char[] ascii = new char[n];
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                return encodeBytes(s);
            }
            ascii[i] = BYTE_TO_CHAR[c];
        }
        return new String(ascii);
    }

    private static String encodeBytes(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    static char byteToChar(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a mapped char stands for, or -1 when {@code c} is not in the map. */
    static int charToByte(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }
}

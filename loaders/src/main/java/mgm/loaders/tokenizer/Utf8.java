package mgm.loaders.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** UTF-8 helpers with the exact replacement rules the reference decoders use. */
final class Utf8 {
    static final String REPLACEMENT = "\uFFFD";

    private Utf8() {}

    /**
     * Lossy decode: each maximal ill-formed subsequence becomes one U+FFFD (the WHATWG/Unicode
     * practice that Rust's from_utf8_lossy, JS TextDecoder and Python's "replace" all follow).
     */
    static String decodeLossy(byte[] bytes, int off, int len) {
        StringBuilder sb = new StringBuilder(len);
        int i = off;
        int end = off + len;
        while (i < end) {
            int b0 = bytes[i] & 0xFF;
            if (b0 < 0x80) {
                sb.append((char) b0);
                i++;
                continue;
            }
            int need;
            int cp;
            int lo = 0x80;
            int hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
                cp = b0 & 0x1F;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                cp = b0 & 0x0F;
                if (b0 == 0xE0) {
                    lo = 0xA0;
                } else if (b0 == 0xED) {
                    hi = 0x9F;
                }
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                cp = b0 & 0x07;
                if (b0 == 0xF0) {
                    lo = 0x90;
                } else if (b0 == 0xF4) {
                    hi = 0x8F;
                }
            } else {
                sb.append('\uFFFD');
                i++;
                continue;
            }
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < need; k++, j++) {
                if (j >= end) {
                    ok = false;
                    break;
                }
                int b = bytes[j] & 0xFF;
                int l = k == 0 ? lo : 0x80;
                int h = k == 0 ? hi : 0xBF;
                if (b < l || b > h) {
                    ok = false;
                    break;
                }
                cp = (cp << 6) | (b & 0x3F);
            }
            if (ok) {
                sb.appendCodePoint(cp);
                i = j;
            } else {
                sb.append('\uFFFD');
                i = j; // the maximal valid prefix is consumed as one replacement
            }
        }
        return sb.toString();
    }

    /**
     * SentencePiece's byte-piece decoding: each complete, valid character is kept and every other
     * byte becomes its own U+FFFD.
     */
    static String decodePerByte(byte[] bytes, int off, int len) {
        StringBuilder sb = new StringBuilder(len);
        int i = off;
        int end = off + len;
        while (i < end) {
            int n = validCharLength(bytes, i, end);
            if (n == 0) {
                sb.append('\uFFFD');
                i++;
            } else {
                sb.append(new String(bytes, i, n, java.nio.charset.StandardCharsets.UTF_8));
                i += n;
            }
        }
        return sb.toString();
    }

    /** Length of the valid UTF-8 character at {@code i}, or 0 when it is malformed or incomplete. */
    static int validCharLength(byte[] bytes, int i, int end) {
        int b0 = bytes[i] & 0xFF;
        if (b0 < 0x80) {
            return 1;
        }
        int need;
        int lo = 0x80;
        int hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            need = 1;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            need = 2;
            lo = b0 == 0xE0 ? 0xA0 : 0x80;
            hi = b0 == 0xED ? 0x9F : 0xBF;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            need = 3;
            lo = b0 == 0xF0 ? 0x90 : 0x80;
            hi = b0 == 0xF4 ? 0x8F : 0xBF;
        } else {
            return 0;
        }
        if (i + need >= end) {
            return 0;
        }
        for (int k = 1; k <= need; k++) {
            int b = bytes[i + k] & 0xFF;
            int l = k == 1 ? lo : 0x80;
            int h = k == 1 ? hi : 0xBF;
            if (b < l || b > h) {
                return 0;
            }
        }
        return need + 1;
    }

    static String decodeLossy(byte[] bytes) {
        return decodeLossy(bytes, 0, bytes.length);
    }

    /** Strict decode, or null when {@code bytes} are not valid UTF-8. */
    static String decodeStrict(byte[] bytes, int off, int len) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            CharBuffer cb = d.decode(ByteBuffer.wrap(bytes, off, len));
            return cb.toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}

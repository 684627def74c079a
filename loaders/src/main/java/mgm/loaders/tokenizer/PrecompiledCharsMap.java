package mgm.loaders.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * SentencePiece's compiled normalisation rules (the {@code precompiled_charsmap} of a
 * NormalizerSpec, also the "Precompiled" normalizer of tokenizer.json): a Darts-clone double-array
 * trie over UTF-8 input bytes whose values index NUL-terminated replacement strings. Each step
 * replaces the longest matching prefix; input without a rule passes through one character at a time.
 */
final class PrecompiledCharsMap {
    private final int[] units;
    private final byte[] normalized;

    private PrecompiledCharsMap(int[] units, byte[] normalized) {
        this.units = units;
        this.normalized = normalized;
    }

    /** Parses the blob: uint32 LE trie size in bytes, the trie units, then the replacement strings. */
    static PrecompiledCharsMap parse(byte[] blob) {
        if (blob.length < 4) {
            throw new IllegalArgumentException("precompiled charsmap is " + blob.length + " bytes, too short");
        }
        long trieSize = (blob[0] & 0xFFL) | (blob[1] & 0xFFL) << 8 | (blob[2] & 0xFFL) << 16 | (blob[3] & 0xFFL) << 24;
        if (trieSize % 4 != 0 || trieSize > blob.length - 4L) {
            throw new IllegalArgumentException("precompiled charsmap trie size " + trieSize
                    + " does not fit its " + blob.length + "-byte blob");
        }
        int n = (int) (trieSize / 4);
        int[] units = new int[n];
        for (int i = 0; i < n; i++) {
            int o = 4 + 4 * i;
            units[i] = (blob[o] & 0xFF) | (blob[o + 1] & 0xFF) << 8 | (blob[o + 2] & 0xFF) << 16 | (blob[o + 3] & 0xFF) << 24;
        }
        byte[] normalized = java.util.Arrays.copyOfRange(blob, 4 + (int) trieSize, blob.length);
        return new PrecompiledCharsMap(units, normalized);
    }

    /**
     * Length in bytes of the longest rule matching {@code input[pos..end)}, with the rule's value
     * in {@code valueOut[0]}; 0 when no rule matches.
     */
    int longestMatch(byte[] input, int pos, int end, int[] valueOut) {
        if (units.length == 0) {
            return 0;
        }
        int nodePos = 0;
        int unit = units[nodePos];
        nodePos ^= offset(unit);
        int best = 0;
        for (int i = pos; i < end; i++) {
            int b = input[i] & 0xFF;
            if (b == 0) {
                break;
            }
            nodePos ^= b;
            if (nodePos < 0 || nodePos >= units.length) {
                break;
            }
            unit = units[nodePos];
            if (label(unit) != b) {
                break;
            }
            nodePos ^= offset(unit);
            if (hasLeaf(unit)) {
                if (nodePos < 0 || nodePos >= units.length) {
                    break;
                }
                best = i - pos + 1;
                valueOut[0] = value(units[nodePos]);
            }
        }
        return best;
    }

    /** The replacement bytes for a rule value (up to the NUL). */
    byte[] replacement(int value) {
        if (value < 0 || value >= normalized.length) {
            throw new IllegalArgumentException("precompiled charsmap value " + value + " is outside its strings");
        }
        int e = value;
        while (e < normalized.length && normalized[e] != 0) {
            e++;
        }
        return java.util.Arrays.copyOfRange(normalized, value, e);
    }

    /** Applies the rules to the whole string (what the "Precompiled" normalizer does). */
    String normalize(String s) {
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 8);
        int[] v = new int[1];
        int i = 0;
        while (i < in.length) {
            int m = longestMatch(in, i, in.length, v);
            if (m > 0) {
                out.writeBytes(replacement(v[0]));
                i += m;
            } else {
                int len = Math.max(1, utf8Length(in, i));
                out.write(in, i, len);
                i += len;
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    static int utf8Length(byte[] b, int i) {
        int c = b[i] & 0xFF;
        int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        return Math.min(n, b.length - i);
    }

    private static boolean hasLeaf(int unit) {
        return ((unit >>> 8) & 1) == 1;
    }

    private static int value(int unit) {
        return unit & 0x7FFFFFFF;
    }

    private static int label(int unit) {
        return unit & (0x80000000 | 0xFF);
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }
}

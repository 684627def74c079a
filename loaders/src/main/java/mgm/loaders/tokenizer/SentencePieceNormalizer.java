package mgm.loaders.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * sentencepiece's Normalizer: the precompiled rules (longest match first), user-defined symbols
 * kept as they are, then whitespace handling: leading/trailing/repeated spaces removed when
 * remove_extra_whitespaces, spaces written as "▁" when escape_whitespaces, and the dummy "▁" prefix
 * (or suffix, with treat_whitespace_as_suffix) for non-empty text.
 */
final class SentencePieceNormalizer {
    private static final String SPACE = "\u2581";
    private static final byte[] SPACE_BYTES = SPACE.getBytes(StandardCharsets.UTF_8);

    private final String source;
    private final PrecompiledCharsMap charsMap;
    private final ByteTrie userDefined;
    final boolean addDummyPrefix;
    final boolean removeExtraWhitespaces;
    final boolean escapeWhitespaces;
    final boolean treatWhitespaceAsSuffix;

    SentencePieceNormalizer(String source, PrecompiledCharsMap charsMap, List<String> userDefinedSymbols,
                            boolean addDummyPrefix, boolean removeExtraWhitespaces, boolean escapeWhitespaces,
                            boolean treatWhitespaceAsSuffix) {
        this.source = source;
        this.charsMap = charsMap;
        this.userDefined = new ByteTrie();
        for (String s : userDefinedSymbols) {
            userDefined.add(s.getBytes(StandardCharsets.UTF_8));
        }
        this.addDummyPrefix = addDummyPrefix;
        this.removeExtraWhitespaces = removeExtraWhitespaces;
        this.escapeWhitespaces = escapeWhitespaces;
        this.treatWhitespaceAsSuffix = treatWhitespaceAsSuffix;
    }

    private SentencePieceNormalizer(SentencePieceNormalizer o, boolean addDummyPrefix) {
        source = o.source;
        charsMap = o.charsMap;
        userDefined = o.userDefined;
        this.addDummyPrefix = addDummyPrefix;
        removeExtraWhitespaces = o.removeExtraWhitespaces;
        escapeWhitespaces = o.escapeWhitespaces;
        treatWhitespaceAsSuffix = o.treatWhitespaceAsSuffix;
    }

    SentencePieceNormalizer withAddDummyPrefix(boolean on) {
        return new SentencePieceNormalizer(this, on);
    }

    /** Length in bytes of the longest user-defined symbol at {@code pos}, or 0. */
    int userDefinedMatch(byte[] in, int pos) {
        return userDefined.longestMatch(in, pos);
    }

    /** sentencepiece's Normalizer::Normalize. */
    String normalize(String text) {
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 8);
        int[] v = new int[1];
        int pos = 0;
        if (removeExtraWhitespaces) {
            while (pos < in.length) {
                byte[] rep = normalizePrefix(in, pos, v);
                if (!(rep.length == 1 && rep[0] == ' ')) {
                    break;
                }
                pos += v[0];
            }
        }
        if (pos >= in.length) {
            return "";
        }
        byte[] ws = escapeWhitespaces ? SPACE_BYTES : new byte[] {' '};
        if (!treatWhitespaceAsSuffix && addDummyPrefix) {
            out.writeBytes(ws);
        }
        boolean prevSpace = removeExtraWhitespaces;
        while (pos < in.length) {
            byte[] rep = normalizePrefix(in, pos, v);
            int s = 0;
            while (prevSpace && s < rep.length && rep[s] == ' ') {
                s++;
            }
            if (s < rep.length) {
                for (int k = s; k < rep.length; k++) {
                    if (escapeWhitespaces && rep[k] == ' ') {
                        out.writeBytes(SPACE_BYTES);
                    } else {
                        out.write(rep[k]);
                    }
                }
                prevSpace = rep[rep.length - 1] == ' ';
            }
            pos += v[0];
            if (!removeExtraWhitespaces) {
                prevSpace = false;
            }
        }
        byte[] result = out.toByteArray();
        int len = result.length;
        if (removeExtraWhitespaces) {
            while (len >= ws.length && endsWith(result, len, ws)) {
                len -= ws.length;
            }
        }
        String norm = new String(result, 0, len, StandardCharsets.UTF_8);
        if (treatWhitespaceAsSuffix && addDummyPrefix) {
            norm += new String(ws, StandardCharsets.UTF_8);
        }
        return norm;
    }

    private static boolean endsWith(byte[] a, int len, byte[] suffix) {
        for (int i = 0; i < suffix.length; i++) {
            if (a[len - suffix.length + i] != suffix[i]) {
                return false;
            }
        }
        return true;
    }

    /** The replacement for the longest rule at {@code pos}; consumed byte count in {@code consumed[0]}. */
    private byte[] normalizePrefix(byte[] in, int pos, int[] consumed) {
        int ud = userDefined.longestMatch(in, pos);
        if (ud > 0) {
            consumed[0] = ud;
            return java.util.Arrays.copyOfRange(in, pos, pos + ud);
        }
        if (charsMap != null) {
            int[] value = new int[1];
            int m = charsMap.longestMatch(in, pos, in.length, value);
            if (m > 0) {
                consumed[0] = m;
                try {
                    return charsMap.replacement(value[0]);
                } catch (IllegalArgumentException e) {
                    throw new TokenizerException(source + ": corrupt precompiled_charsmap: " + e.getMessage(), e);
                }
            }
        }
        int n = Utf8.validCharLength(in, pos, in.length);
        if (n == 0) {
            consumed[0] = 1;
            return Utf8.REPLACEMENT.getBytes(StandardCharsets.UTF_8);
        }
        consumed[0] = n;
        return java.util.Arrays.copyOfRange(in, pos, pos + n);
    }
}

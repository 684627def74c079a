package mgm.tools;

import java.math.BigInteger;
import java.security.SecureRandom;

/**
 * Python shortuuid's {@code uuid()}, which MGM's eval uses for {@code answer_id}: a random UUID
 * (version 4) written in base 57 with the alphabet below, most significant digit first, padded to
 * 22 characters.
 */
final class ShortUuid {
    static final String ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    static final int LENGTH = 22;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final BigInteger BASE = BigInteger.valueOf(ALPHABET.length());

    private ShortUuid() {}

    static String random() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        b[6] = (byte) ((b[6] & 0x0f) | 0x40); // version 4
        b[8] = (byte) ((b[8] & 0x3f) | 0x80); // RFC 4122 variant
        return encode(new BigInteger(1, b));
    }

    /** The 128-bit number in base 57, {@link #LENGTH} digits. */
    static String encode(BigInteger n) {
        StringBuilder sb = new StringBuilder();
        BigInteger v = n;
        while (v.signum() > 0) {
            BigInteger[] qr = v.divideAndRemainder(BASE);
            sb.append(ALPHABET.charAt(qr[1].intValue()));
            v = qr[0];
        }
        while (sb.length() < LENGTH) {
            sb.append(ALPHABET.charAt(0));
        }
        return sb.reverse().toString();
    }
}

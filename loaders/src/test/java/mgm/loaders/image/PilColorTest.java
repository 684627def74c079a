package mgm.loaders.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Pillow's CMYK → RGB for all 65,536 (ink, black) pairs. (libjpeg's YCbCr → RGB is checked end to end
 * by the JPEG decoding fixtures, which match libjpeg bit for bit.)
 */
class PilColorTest {

    @Test
    void cmykToRgbIsPillowsForEveryInkAndBlack() {
        byte[] table = TestResources.bytes("decode/cmyk_to_rgb.bin"); // Pillow 9.4, see make_decode_fixtures.py
        for (int k = 0; k < 256; k++) {
            for (int ink = 0; ink < 256; ink++) {
                assertEquals(table[k * 256 + ink] & 0xFF, PilColor.cmykChannel(ink, k), "ink " + ink + ", black " + k);
            }
        }
    }
}

package mgm.loaders.image;

import java.awt.image.Raster;

/** Sanity checks on what a decoder returned, so a confused plugin cannot hand back the wrong shape. */
final class RasterChecks {
    private RasterChecks() {}

    static void requireSize(Raster raster, long width, long height, String source) throws ImageException {
        if (raster.getWidth() != width || raster.getHeight() != height) {
            throw new ImageException(source, "the decoder returned a " + raster.getWidth() + "x" + raster.getHeight()
                    + " image but the header declares " + width + "x" + height);
        }
    }

    static void requireBands(Raster raster, int bands, String what, String source) throws ImageException {
        if (raster.getNumBands() != bands) {
            throw new ImageException(source, "the decoder returned " + raster.getNumBands() + " channels for " + what
                    + " (expected " + bands + ")");
        }
    }
}

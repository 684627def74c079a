package mgm.loaders.image;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * Decodes PNG, JPEG, BMP, GIF (first frame) and WebP files to 8-bit RGB with the pixels PIL 9.4's
 * {@code Image.open(f).convert('RGB')} gives (what MGM's {@code load_image} does): each format's
 * own class documents its conversions. EXIF orientation is not applied, as PIL does not apply it.
 *
 * <p>Every problem is an {@link ImageException} with one line naming the file: not an image or an
 * unsupported format, a malformed or truncated file, a 0-pixel image, or a declared size above the
 * pixel limit. The size is read from the header before any pixel is decoded, so a small file that
 * declares an enormous image (a decompression bomb) is refused without allocating.
 */
public final class ImageDecoder {
    /** PIL's {@code Image.MAX_IMAGE_PIXELS} (it warns above this, errors at twice it); we refuse above it. */
    public static final long DEFAULT_MAX_PIXELS = 89_478_485L;
    /** Files larger than this are refused before reading (no real image of an allowed size needs more). */
    public static final long MAX_FILE_BYTES = 1L << 30;

    private final long maxPixels;

    /** A decoder with the {@link #DEFAULT_MAX_PIXELS} limit. */
    public ImageDecoder() {
        this(DEFAULT_MAX_PIXELS);
    }

    /** A decoder that refuses images with more than {@code maxPixels} pixels. */
    public ImageDecoder(long maxPixels) {
        if (maxPixels < 1 || maxPixels > Integer.MAX_VALUE / 3) {
            throw new IllegalArgumentException("maxPixels must be in 1.." + Integer.MAX_VALUE / 3 + ", got " + maxPixels);
        }
        this.maxPixels = maxPixels;
    }

    public long maxPixels() {
        return maxPixels;
    }

    /** Reads and decodes {@code file}. */
    public RgbImage decode(Path file) throws ImageException {
        String source = file.toString();
        if (Files.isDirectory(file)) {
            throw new ImageException(source, "is a directory, not an image file");
        }
        byte[] data;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new ImageException(source, "the file has " + size + " bytes; image files may have at most " + MAX_FILE_BYTES);
            }
            data = Files.readAllBytes(file);
        } catch (ImageException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw new ImageException(source, "no such file");
        } catch (AccessDeniedException e) {
            throw new ImageException(source, "permission denied");
        } catch (IOException e) {
            throw new ImageException(source, "cannot read the file: " + ImageIoSupport.oneLine(e), e);
        } catch (OutOfMemoryError e) {
            throw new ImageException(source, "not enough memory to read the file");
        }
        return decode(data, source);
    }

    /** Decodes an image file held in memory; {@code source} names it in error messages. */
    public RgbImage decode(byte[] data, String source) throws ImageException {
        if (data.length == 0) {
            throw new ImageException(source, "the file is empty");
        }
        ImageFormat format = ImageFormat.detect(data);
        if (format == null) {
            throw new ImageException(source, "not a supported image (PNG, JPEG, GIF, BMP or WebP); it starts with "
                    + HexFormat.ofDelimiter(" ").formatHex(data, 0, Math.min(8, data.length)));
        }
        try {
            return decode(data, source, format);
        } catch (OutOfMemoryError e) {
            throw new ImageException(source, "not enough memory to decode this " + format + " image");
        } catch (RuntimeException e) {
            // A plugin or raster layout we did not expect: still one clean line, the cause kept.
            throw new ImageException(source, "cannot decode " + format + ": " + ImageIoSupport.oneLine(e), e);
        }
    }

    private RgbImage decode(byte[] data, String source, ImageFormat format) throws ImageException {
        return switch (format) {
            case PNG -> {
                PngFile.Header h = PngFile.parse(data, source);
                checkSize(h.width(), h.height(), source);
                yield PngFile.decode(data, source, h);
            }
            case JPEG -> {
                JpegFile.Header h = JpegFile.parse(data, source);
                checkSize(h.width(), h.height(), source);
                yield JpegFile.decode(data, source, h);
            }
            case GIF -> {
                GifFile.Header h = GifFile.parse(data, source);
                checkSize(h.width(), h.height(), source);
                yield GifFile.decode(data, source, h);
            }
            case BMP -> {
                BmpFile.Header h = BmpFile.parse(data, source);
                checkSize(h.width(), h.height(), source);
                yield BmpFile.decode(data, source, h);
            }
            case WEBP -> {
                WebpFile.Header h = WebpFile.parse(data, source);
                checkSize(h.width(), h.height(), source);
                yield WebpFile.decode(data, source, h);
            }
        };
    }

    /** The header's size must be non-empty and within the pixel limit, before any decoding. */
    private void checkSize(long width, long height, String source) throws ImageException {
        if (width == 0 || height == 0) {
            throw new ImageException(source, "the image is " + width + "x" + height + " pixels (empty)");
        }
        long pixels = width * height; // both below 2^31: no overflow
        if (pixels > maxPixels) {
            throw new ImageException(source, "the image is " + width + "x" + height + " = " + pixels
                    + " pixels, above the limit of " + maxPixels + " pixels");
        }
    }
}

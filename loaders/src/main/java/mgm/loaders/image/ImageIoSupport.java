package mgm.loaders.image;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Runs one ImageIO decode of an in-memory file and turns every way it can fail (IOException, a
 * runtime exception from a confused plugin, running out of memory) into an {@link ImageException}.
 * Warnings the plugin reports are collected for the caller to judge.
 */
final class ImageIoSupport {
    private ImageIoSupport() {}

    /** The pixels of the first image and the warnings the reader reported on the way. */
    record Decoded(Raster raster, List<String> warnings) {}

    /**
     * Decodes image 0 of {@code data} with an ImageIO reader for {@code format}. {@code rawRaster}:
     * read the stored samples without colour conversion ({@link ImageReader#readRaster}) instead of
     * the reader's {@link BufferedImage}. Readers from {@code preferredPackage} are tried first.
     */
    static Decoded decode(byte[] data, String source, ImageFormat format, boolean rawRaster, String preferredPackage)
            throws ImageException {
        ImageReader reader = pickReader(format, preferredPackage);
        if (reader == null) {
            throw new ImageException(source, "no ImageIO reader for " + format + " is installed (is the TwelveMonkeys plugin on the class path?)");
        }
        List<String> warnings = new ArrayList<>();
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            reader.setInput(in, true, true);
            reader.addIIOReadWarningListener((r, warning) -> warnings.add(warning));
            Raster raster = rawRaster ? reader.readRaster(0, null) : reader.read(0).getRaster();
            return new Decoded(raster, warnings);
        } catch (IOException | RuntimeException e) {
            throw new ImageException(source, "cannot decode " + format + ": " + oneLine(e));
        } catch (OutOfMemoryError e) {
            throw new ImageException(source, "not enough memory to decode this " + format + " image");
        } catch (StackOverflowError e) {
            throw new ImageException(source, "cannot decode " + format + ": the decoder overflowed its stack");
        } finally {
            reader.dispose();
        }
    }

    private static ImageReader pickReader(ImageFormat format, String preferredPackage) {
        ImageReader fallback = null;
        for (Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName(format.imageIoName()); it.hasNext();) {
            ImageReader r = it.next();
            if (preferredPackage == null || r.getClass().getName().startsWith(preferredPackage)) {
                if (fallback != null) {
                    fallback.dispose();
                }
                return r;
            }
            if (fallback == null) {
                fallback = r;
            } else {
                r.dispose();
            }
        }
        return fallback;
    }

    /** The messages of an exception chain (outermost first), on one line. */
    static String oneLine(Throwable e) {
        StringBuilder sb = new StringBuilder();
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
            String m = t.getMessage();
            String part = m == null || m.isBlank() ? t.getClass().getSimpleName()
                    : t instanceof IOException ? m : t.getClass().getSimpleName() + ": " + m;
            if (sb.indexOf(part) < 0) {
                sb.append(sb.length() == 0 ? "" : ": ").append(part);
            }
        }
        String line = sb.toString().replaceAll("\\s+", " ").trim();
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }
}

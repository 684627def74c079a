package mgm.tools.serve;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Locale;

/**
 * Turns an {@code image_url.url} into the image file's bytes: a {@code data:} URI with base64
 * content, or (only when the server allows it) a {@code file://} URL on the server's disk. The
 * server fetches nothing from the network.
 */
final class ImageUrls {
    private ImageUrls() {}

    static byte[] read(String url, String param, boolean allowLocalFiles, long maxBytes) {
        String lower = url.regionMatches(true, 0, "data:", 0, 5) ? "data:" : url.toLowerCase(Locale.ROOT);
        if (lower.startsWith("data:")) {
            return dataUri(url, param, maxBytes);
        }
        if (lower.startsWith("file:")) {
            if (!allowLocalFiles) {
                throw ApiError.badRequest("file:// image URLs are refused: the server was started without "
                        + "--allow-local-files; send the image as a data: URI (data:image/png;base64,...)", param,
                        "invalid_image_url");
            }
            return localFile(url, param, maxBytes);
        }
        if (lower.startsWith("http:") || lower.startsWith("https:")) {
            throw ApiError.badRequest("this server does not download images; send the image as a data: URI "
                    + "(data:image/jpeg;base64,...)", param, "invalid_image_url");
        }
        throw ApiError.badRequest("an image URL must be a data: URI (data:image/png;base64,...)"
                + (allowLocalFiles ? " or a file:// URL" : ""), param, "invalid_image_url");
    }

    /** {@code data:[<media type>][;base64],<data>}; only base64 content makes sense for an image. */
    private static byte[] dataUri(String url, String param, long maxBytes) {
        int comma = url.indexOf(',');
        if (comma < 0) {
            throw ApiError.badRequest("the data: URI has no ',' before its content", param, "invalid_image_url");
        }
        String header = url.substring(5, comma).toLowerCase(Locale.ROOT);
        if (!header.endsWith(";base64")) {
            throw ApiError.badRequest("the data: URI must be base64 encoded (data:image/png;base64,...)", param,
                    "invalid_image_url");
        }
        String mediaType = header.substring(0, header.length() - ";base64".length());
        if (!mediaType.isEmpty() && !mediaType.startsWith("image/") && !mediaType.equals("application/octet-stream")) {
            throw ApiError.badRequest("the data: URI holds '" + mediaType + "', not an image", param, "invalid_image_url");
        }
        int length = url.length() - comma - 1;
        long decodedBound = (long) length / 4 * 3;
        if (decodedBound - 2 > maxBytes) {
            throw ApiError.tooLarge("the image has about " + decodedBound + " bytes; the limit is " + maxBytes
                    + " (--max-image-bytes)", param, "image_too_large");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(withoutWhitespace(url, comma + 1));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("the data: URI is not valid base64: " + e.getMessage(), param, "invalid_image_url");
        }
        if (bytes.length > maxBytes) {
            throw ApiError.tooLarge("the image has " + bytes.length + " bytes; the limit is " + maxBytes
                    + " (--max-image-bytes)", param, "image_too_large");
        }
        if (bytes.length == 0) {
            throw ApiError.badRequest("the data: URI is empty", param, "invalid_image_url");
        }
        return bytes;
    }

    /** Base64 wrapped in lines (as some encoders write it) decodes as one piece. */
    private static String withoutWhitespace(String s, int from) {
        StringBuilder sb = new StringBuilder(s.length() - from);
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static byte[] localFile(String url, String param, long maxBytes) {
        Path path;
        try {
            path = Path.of(new URI(url));
        } catch (URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            throw ApiError.badRequest("not a valid file URL (file:///absolute/path.jpg): " + url, param, "invalid_image_url");
        }
        try {
            if (!Files.isRegularFile(path)) {
                throw new NoSuchFileException(path.toString());
            }
            long size = Files.size(path);
            if (size > maxBytes) {
                throw ApiError.tooLarge(path + " has " + size + " bytes; the limit is " + maxBytes + " (--max-image-bytes)",
                        param, "image_too_large");
            }
            return Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw ApiError.badRequest("no such image file on the server: " + path, param, "invalid_image_url");
        } catch (IOException e) {
            throw ApiError.badRequest("cannot read " + path + ": " + e.getMessage(), param, "invalid_image_url");
        }
    }
}
